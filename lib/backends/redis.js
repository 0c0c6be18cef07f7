'use strict';
// The Redis result backend, shaped like celery-node's RedisBackend (getTaskMeta, storeResult,
// isReady, disconnect) over the native push-based waiter.

const { RedisBackendWrapper } = require('../../binding');
const { callNative, fromNative } = require('../errors');
const { redisOptionsJson } = require('../transport-url');
const { parseMeta } = require('../result-decoding');

class RedisBackend {
  constructor(url, opts = {}) {
    this.url = url;
    this.opts = opts;
    this._native = callNative(() => new RedisBackendWrapper(url, redisOptionsJson(opts)));
  }

  isReady() {
    return this._native.ready().catch((e) => Promise.reject(fromNative(e)));
  }

  /** Resolves "OK", as ioredis' QUIT does for celery-node. */
  disconnect() {
    return this._native.close().then(() => 'OK', (e) => Promise.reject(fromNative(e)));
  }

  /** The stored meta object, or null when nothing is stored. */
  getTaskMeta(taskId) {
    return this._native.getTaskMeta(taskId).then(parseMeta, (e) => Promise.reject(fromNative(e)));
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

  /** { outcome: 'ready' | 'timeout' | 'cancelled' }: push-based wait used by AsyncResult#get. */
  _waitForReady(taskId, timeout, interval) {
    return this._native.waitForReady(taskId, timeout || null, interval).catch((e) => Promise.reject(fromNative(e)));
  }

  _cancelWait(taskId) {
    this._native.cancelWait(taskId);
  }
}

module.exports = RedisBackend;
