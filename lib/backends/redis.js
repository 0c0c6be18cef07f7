'use strict';

const NativeBackend = require('./native');
const { fromNative } = require('../errors');
const { parseMeta } = require('../result-decoding');
const { TickBatch } = require('../tick-batch');
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
    this._reads = new TickBatch((ids) =>
      this._native.getTaskMetas(ids).then((texts) => texts.map((text) => parseMeta(text, this.decoding)), (e) => Promise.reject(fromNative(e))),
    );
    this._registrations = new TickBatch((ids) => this._native.registerReady(ids).catch((e) => Promise.reject(fromNative(e))));
    this._readyWaiters = new Map(); // task id → the resolve of its waiter, or an array of them
    this._pump = null;
    this._closed = false;
  }

  /** The stored meta object, or null when nothing is stored. */
  getTaskMeta(taskId) {
    return this._reads.request(taskId);
  }

  /**
   * Waits for the task's ready state to be pushed: `{ subscribed, meta, cancel }`. `subscribed`
   * resolves once a result published from now on cannot be missed (the caller then reads what is
   * already stored); it rejects when Redis cannot push, and the caller waits another way.
   * `meta` resolves with the ready meta's text, or null when the client disconnected.
   */
  _awaitReady(taskId) {
    let entry;
    const meta = new Promise((resolve) => (entry = resolve));
    if (this._closed) {
      entry(null);
      return { subscribed: Promise.resolve(), meta, cancel() {} };
    }
    // One waiter per task is the rule: kept as is; more become an array.
    const current = this._readyWaiters.get(taskId);
    if (current === undefined) this._readyWaiters.set(taskId, entry);
    else if (Array.isArray(current)) current.push(entry);
    else this._readyWaiters.set(taskId, [current, entry]);
    const subscribed = current === undefined ? this._registration(taskId) : Promise.resolve();
    const cancel = () => this._cancelReady(taskId, entry);
    return { subscribed, meta, cancel };
  }

  /** Subscribes with every other task of this tick; one Promise for them all. */
  _registration(taskId) {
    const shared = this._registrations.requestShared(taskId);
    if (!shared._watched) {
      shared._watched = true;
      shared.then(() => this._startPump(), () => {});
    }
    return shared;
  }

  _cancelReady(taskId, entry) {
    const current = this._readyWaiters.get(taskId);
    if (current === undefined) return;
    if (Array.isArray(current)) {
      const i = current.indexOf(entry);
      if (i < 0) return;
      current.splice(i, 1);
      if (current.length > 0) return;
    } else if (current !== entry) {
      return;
    }
    this._readyWaiters.delete(taskId);
    this._native.cancelReady([taskId]);
    if (this._readyWaiters.size === 0 && this._pump) this._native.wakeReady(); // lets the pump end
  }

  _startPump() {
    if (this._pump || this._readyWaiters.size === 0) return;
    this._pump = (async () => {
      try {
        while (this._readyWaiters.size > 0 && !this._closed) {
          for (const [taskId, text] of await this._native.nextReady()) {
            const waiters = this._readyWaiters.get(taskId);
            if (waiters === undefined) continue;
            this._readyWaiters.delete(taskId);
            if (Array.isArray(waiters)) for (const waiter of waiters) waiter(text);
            else waiters(text);
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
      for (const waiter of [].concat(waiters)) waiter(null);
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
