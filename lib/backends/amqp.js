'use strict';

const NativeBackend = require('./native');
const { fromNative } = require('../errors');
const { amqpOptionsJson } = require('../transport-url');

/**
 * celery-node's own `amqp://` result backend: one queue per task, named by its id without
 * dashes. Celery 5 has no such backend; it is here so celery-node deployments keep working.
 * `CELERY_RESULT_EXPIRES` (ms) in the options sets the queues' `x-expires`.
 */
class AMQPBackend extends NativeBackend {
  constructor(url, opts = {}) {
    const options = opts && typeof opts === 'object' ? opts : {};
    super(url, opts, amqpOptionsJson({ ...options, resultExpires: options.CELERY_RESULT_EXPIRES }));
  }

  /** Stores a result the way celery-node's worker does; resolves `true`, as celery-node's. */
  storeResult(taskId, result, state) {
    const meta = {
      status: state,
      result: state === 'FAILURE' ? null : result,
      traceback: null,
      children: [],
      task_id: taskId,
      date_done: new Date().toISOString(),
    };
    return this._native.storeTaskMeta(taskId, JSON.stringify(meta)).then(() => true, (e) => Promise.reject(fromNative(e)));
  }
}

module.exports = AMQPBackend;
