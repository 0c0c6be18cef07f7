'use strict';

const BatchingBackend = require('./batching');
const { fromNative } = require('../errors');
const { parseMeta } = require('../result-decoding');
const { TickBatch, MAX_BATCH: BATCH } = require('../tick-batch');
const { redisOptionsJson } = require('../transport-url');

/**
 * The Celery Redis result backend (celery-node's RedisBackend). Reads and waits are batched:
 * the `getTaskMeta`s of one tick are one MGET, the `get()`s of one tick one SUBSCRIBE (and one
 * MGET of what is already stored, unless getTaskMeta was replaced: then it is called once per
 * `get()`, so spies see their calls), and every pushed ready state reaches its waiters through
 * one pump (see BatchingBackend).
 */
class RedisBackend extends BatchingBackend {
  constructor(url, opts = {}) {
    super(url, opts, redisOptionsJson(opts));
    this._reads = new TickBatch((ids) => this._readMetas(ids));
  }

  /** The stored metas of these tasks (null where nothing is stored), in one MGET. */
  _readMetas(ids) {
    return this._native.getTaskMetas(ids).then((texts) => texts.map((text) => parseMeta(text, this.decoding)), (e) => Promise.reject(fromNative(e)));
  }

  /** The stored meta object, or null when nothing is stored. */
  getTaskMeta(taskId) {
    return this._reads.request(taskId);
  }

  _readsAlong() {
    return this.getTaskMeta === RedisBackend.prototype.getTaskMeta;
  }

  /** The results stored before the subscriptions: one MGET per chunk, unless getTaskMeta was replaced. */
  _readStored(waits) {
    if (!this._readsAlong()) {
      super._readStored(waits);
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
