'use strict';

const NativeBackend = require('./native');
const { fromNative } = require('../errors');
const { redisOptionsJson } = require('../transport-url');

/** The Celery Redis result backend (celery-node's RedisBackend). */
class RedisBackend extends NativeBackend {
  constructor(url, opts = {}) {
    super(url, opts, redisOptionsJson(opts));
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
