'use strict';

const NativeBackend = require('./native');
const { fromNative } = require('../errors');
const { MAX_BATCH: BATCH } = require('../tick-batch');

/**
 * A native backend that waits in batches (Redis, rpc://): the `get()`s of one tick register
 * together, and every ready state that arrives reaches its waiters through one pump, so 100,000
 * pending `get()`s hold no native call each. A subclass defines `_readsAlong()`: whether a
 * registration also answers what is already there (else `_readStored` reads it, through
 * getTaskMeta or in its own way).
 */
class BatchingBackend extends NativeBackend {
  constructor(...args) {
    super(...args);
    this._readyWaiters = new Map(); // task id → its wait record, or an array of them
    this._tick = []; // wait records taken since the last registration
    this._cancels = []; // task ids whose last record left
    this._pump = null;
    this._closed = false;
  }

  /**
   * Takes a pending `get()` (a wait record, see `BatchWait` in lib/result.js). The records of one
   * tick register together; what is already there is read with the registration (or by
   * `_readStored`); then the ready states that arrive settle them. Without batch waiting (Redis
   * without pub/sub) each record falls back to waiting on its own.
   */
  _awaitReady(taskId, wait) {
    if (this._closed) {
      wait.disconnected();
      return;
    }
    const current = this._readyWaiters.get(taskId);
    if (current === undefined) this._readyWaiters.set(taskId, wait);
    else if (Array.isArray(current)) current.push(wait);
    else this._readyWaiters.set(taskId, [current, wait]);
    wait.registers = current === undefined;
    if (this._tick.length === 0) queueMicrotask(() => this._registerTick());
    this._tick.push(wait);
  }

  _registerTick() {
    const waits = this._tick;
    this._tick = [];
    const readAlong = this._readsAlong();
    const registering = waits.filter((wait) => wait.registers);
    // One chunk after the other: only one chunk's ids are held natively at a time.
    let registered = Promise.resolve();
    for (let from = 0; from < registering.length; from += BATCH) {
      const part = registering.slice(from, from + BATCH);
      registered = registered
        .then(() => this._native.registerReady(part.map((wait) => wait.result.taskId), readAlong))
        .then((texts) => {
          this._startPump();
          if (texts) texts.forEach((text, i) => part[i].storedText(text));
        });
    }
    registered.then(
      () => {
        this._startPump();
        this._readStored(readAlong ? waits.filter((wait) => !wait.registers) : waits);
      },
      (error) => {
        for (const wait of waits) {
          this._cancelReady(wait);
          wait.fallback(fromNative(error));
        }
      },
    );
  }

  /** What is already there for records the registration did not read, through getTaskMeta. */
  _readStored(waits) {
    for (const wait of waits) wait.result._lookup().then((meta) => wait.stored(meta), (error) => wait.fail(error));
  }

  /** A record that is done (or gives up) leaves; the last one of a task ends its registration. */
  _cancelReady(wait) {
    const taskId = wait.result.taskId;
    const current = this._readyWaiters.get(taskId);
    if (current === undefined) return;
    if (Array.isArray(current)) {
      const i = current.indexOf(wait);
      if (i < 0) return;
      current.splice(i, 1);
      if (current.length > 0) return;
    } else if (current !== wait) {
      return;
    }
    this._readyWaiters.delete(taskId);
    if (this._cancels.length === 0) queueMicrotask(() => this._flushCancels());
    this._cancels.push(taskId);
  }

  _flushCancels() {
    const ids = this._cancels;
    this._cancels = [];
    this._native.cancelReady(ids);
    if (this._readyWaiters.size === 0 && this._pump) this._native.wakeReady(); // lets the pump end
  }

  _startPump() {
    if (this._pump || this._readyWaiters.size === 0) return;
    this._pump = (async () => {
      try {
        while (this._readyWaiters.size > 0 && !this._closed) {
          for (const [taskId, text] of await this._native.nextReady(this._readyWaiters.size)) {
            const waiters = this._readyWaiters.get(taskId);
            if (waiters === undefined) continue;
            this._readyWaiters.delete(taskId);
            if (Array.isArray(waiters)) for (const wait of waiters) wait.pushed(text);
            else waiters.pushed(text);
          }
        }
      } finally {
        this._pump = null;
      }
    })();
  }

  disconnect() {
    this._closed = true;
    const closing = super.disconnect();
    for (const waiters of this._readyWaiters.values()) {
      for (const wait of [].concat(waiters)) wait.disconnected();
    }
    this._readyWaiters.clear();
    return closing;
  }
}

module.exports = BatchingBackend;
