'use strict';

const { randomUUID } = require('node:crypto');
const Base = require('./base');
const Task = require('./task');
const { AsyncResult } = require('./result');
const { celeryError } = require('./errors');
const { sendOptions } = require('./send-options');

/** Rejects what JSON cannot carry instead of silently dropping or nulling it. */
function rejectNonJson(key, value) {
  const type = typeof value;
  if (type === 'function' || type === 'symbol') {
    throw celeryError('ERR_CELERY_NOT_JSON', `cannot send a ${type} as a task argument${key ? ` (at key "${key}")` : ''}`, TypeError);
  }
  return value;
}

function toJson(value, what) {
  try {
    return JSON.stringify(value, rejectNonJson);
  } catch (error) {
    if (error.code === 'ERR_CELERY_NOT_JSON') throw error;
    throw celeryError('ERR_CELERY_NOT_JSON', `${what} cannot be sent as JSON: ${error.message}`, TypeError);
  }
}

class Client extends Base {
  createTask(name) {
    return new Task(this, name);
  }

  asyncResult(taskId) {
    return new AsyncResult(taskId, this.backend);
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
    const argsJson = toJson(args === undefined ? null : args, 'args');
    const kwargsJson = kwargs === undefined ? null : toJson(kwargs, 'kwargs');
    const queue = (options && options.queue) || this.conf.CELERY_QUEUE;
    const broker = this.broker;
    const result = new AsyncResult(taskId || randomUUID(), this.backend, { published: true });
    broker.publishTask(result, taskName, argsJson, kwargsJson, queue, protocol, sendOptions(options));
    return result;
  }
}

module.exports = Client;
