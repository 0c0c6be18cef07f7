'use strict';

const NativeBackend = require('./native');
const { fromNative } = require('../errors');
const { parseMeta } = require('../result-decoding');
const { TickBatch, MAX_BATCH: BATCH } = require('../tick-batch');
const { redisOptionsJson } = require('../transport-url');

/**
 * The Celery Redis result backend (celery-node's RedisBackend). Reads and waits are batched:
 * the `getTaskMeta`s of one tick are one MGET, the `get()`s of one tick one SUBSCRIBE, and every
 * pushed ready state reaches its waiters through one pump, so 100,000 pending `get()`s hold no
 * native call each.
 */
class RedisBackend extends NativeBackend {
  constructor(url, opts = {}) {
    super(url, opts, redisOptionsJson(opts));
    this._reads = new TickBatch((ids) => this._readMetas(ids));
    this._readyWaiters = new Map(); // task id → its wait record, or an array of them
    this._tick = []; // wait records taken since the last registration
    this._cancels = []; // task ids whose last record left
    this._pump = null;
    this._closed = false;
  }

  /** The stored metas of these tasks (null where nothing is stored), in one MGET. */
  _readMetas(ids) {
    return this._native.getTaskMetas(ids).then((texts) => texts.map((text) => parseMeta(text, this.decoding)), (e) => Promise.reject(fromNative(e)));
  }

  /** The stored meta object, or null when nothing is stored. */
  getTaskMeta(taskId) {
    return this._reads.request(taskId);
  }

  /**
   * Takes a pending `get()` (a wait record, see `BatchWait` in lib/result.js). The records of one
   * tick subscribe together; then what is already stored is read (one MGET for all, or each
   * through a replaced `getTaskMeta`, so spies see their call); then pushed ready states settle
   * them. Without pub/sub each record falls back to waiting on its own.
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
    // Unless getTaskMeta was replaced, each chunk's subscription reads what is stored too.
    const readAlong = this.getTaskMeta === RedisBackend.prototype.getTaskMeta;
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

  /** The results stored before the subscriptions: one MGET per chunk, unless getTaskMeta was replaced. */
  _readStored(waits) {
    if (this.getTaskMeta !== RedisBackend.prototype.getTaskMeta) {
      for (const wait of waits) wait.result._lookup().then((meta) => wait.stored(meta), (error) => wait.fail(error));
      return;
    }
    for (let from = 0; from < waits.length; from += BATCH) {
      const part = waits.slice(from, from + BATCH);
      this._readMetas(part.map((wait) => wait.result.taskId)).then(
        (metas) => metas.forEach((meta, i) => part[i].stored(meta)),
        (error) => part.forEach((wait) => wait.fail(error)),
      );
    }
  }

  /** A record that is done (or gives up) leaves; the last one of a task ends its subscription. */
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

  /** Stores a result the way celery-node's worker does (same keys and quirks). */
  storeResult(taskId, result, state) {
    const meta = {
      status: state,
      result: state === 'FAILURE' ? null : result,
      traceback: state === 'FAILURE' ? JSON.stringify(result) : result,
      children: [],
      task_id: taskId,
      date_done: new Date().toISOString(),
    };
    return this._native.storeTaskMeta(taskId, JSON.stringify(meta)).then(() => ['OK', null], (e) => Promise.reject(fromNative(e)));
  }
}

module.exports = RedisBackend;
