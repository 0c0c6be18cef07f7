'use strict';

const { randomUUID } = require('node:crypto');
const Base = require('./base');
const Task = require('./task');
const { AsyncResult } = require('./result');
const { celeryError, fromNative } = require('./errors');
const { toJson } = require('./json-arguments');
const { sendOptions } = require('./send-options');
const { Signature, sendCanvas } = require('./canvas');

class Client extends Base {
  createTask(name) {
    return new Task(this, name);
  }

  /** A signature (Python's `signature(name, args, kwargs, **options)`). */
  signature(name, args = [], kwargs = {}, options = {}) {
    return new Signature(this, name, args, kwargs, options);
  }

  asyncResult(taskId) {
    return new AsyncResult(taskId, this.backend, { client: this });
  }

  /**
   * Revokes tasks as Python's `app.control.revoke(ids, terminate=, signal=)`: a broadcast that
   * the workers online act on. Resolves once it is sent.
   */
  revoke(taskIds, { terminate = false, signal = 'SIGTERM' } = {}) {
    const ids = [].concat(taskIds).map(String);
    return this.broker._native.revoke(ids, Boolean(terminate), String(signal)).catch((e) => Promise.reject(fromNative(e)));
  }

  /**
   * Sends a task and returns its AsyncResult synchronously. As celery-node, args and kwargs are
   * not defaulted here (undefined kwargs travel as null). `options` (countdown, eta, expires,
   * priority, queue, ...) is this package's addition.
   */
  sendTask(taskName, args, kwargs, taskId, options) {
    const protocol = this.conf.TASK_PROTOCOL;
    if (protocol !== 1 && protocol !== 2) {
      throw celeryError('ERR_CELERY_INVALID_OPTION', `TASK_PROTOCOL must be 1 or 2, got ${protocol}`, TypeError);
    }
    if (options && (options.link || options.linkError)) {
      // Callbacks travel as signature dicts: the canvas path builds them.
      return sendCanvas(this, new Signature(this, taskName, args || [], kwargs || {}, { ...options, taskId: taskId || options.taskId }).toDict());
    }
    const argsJson = toJson(args === undefined ? null : args, 'args');
    const kwargsJson = kwargs === undefined ? null : toJson(kwargs, 'kwargs');
    const queue = (options && options.queue) || this.conf.CELERY_QUEUE;
    const broker = this.broker;
    const id = taskId || (options && options.taskId) || randomUUID();
    const result = new AsyncResult(id, this.backend, { published: true, client: this });
    broker.publishTask(result, taskName, argsJson, kwargsJson, queue, protocol, sendOptions(options));
    return result;
  }
}

module.exports = Client;
