'use strict';

const { randomUUID } = require('node:crypto');
const Base = require('./base');
const Task = require('./task');
const { AsyncResult } = require('./result');
const { celeryError, fromNative } = require('./errors');
const { toJson } = require('./json-arguments');
const { sendOptions } = require('./send-options');
const { Signature, sendCanvas } = require('./canvas');
const { routeOptions } = require('./routes');
const { batchEntry } = require('./brokers/native');

class Client extends Base {
  /**
   * @param {object} [options] how values cross: `decodeTypes` (kombu's `__type__` markers in
   *   results → Date, string, Buffer), `bigInt` (result integers beyond 2^53 → BigInt), `dates`
   *   (`'datetime'`, the default: Date arguments as kombu datetimes; `'string'`: ISO strings)
   */
  constructor(broker, backend, queue, options = {}) {
    super(broker, backend, queue);
    this.options = { ...options };
  }

  /** A task by name; `defaultOptions` (queue, priority, ...) apply to each of its calls. */
  createTask(name, defaultOptions) {
    return new Task(this, name, defaultOptions);
  }

  /**
   * Sends many tasks at once: `[{ name, args, kwargs, taskId, options }]` → their AsyncResults,
   * in order. Every message is queued before any is written, so they go out in pipelined
   * batches. Validation errors throw before anything is sent.
   */
  sendTasks(tasks) {
    if (!Array.isArray(tasks)) throw celeryError('ERR_CELERY_INVALID_ARGUMENT', 'sendTasks expects an array', TypeError);
    // Every entry is checked first. A plain task is kept only as its batch entry (text), so that
    // no object per task outlives this loop; a canvas send keeps its signature dict.
    const ids = new Array(tasks.length);
    const planned = tasks.map((task, i) => {
      if (!task || typeof task.name !== 'string') throw celeryError('ERR_CELERY_INVALID_ARGUMENT', 'each task needs a name', TypeError);
      if (task.args && !Array.isArray(task.args)) throw celeryError('ERR_CELERY_INVALID_ARGUMENT', 'args is not array');
      const { name, taskId, options } = task;
      const [args, kwargs] = [task.args || [], task.kwargs || {}];
      const send = this._plan(name, args, kwargs, taskId, options);
      if (!send.canvas) {
        ids[i] = send.taskId;
        return batchEntry(send);
      }
      // Sent (and stringified) later, on the canvas path: checked now.
      toJson(args, 'args', this.options);
      toJson(kwargs, 'kwargs', this.options);
      return send;
    });
    // In order: runs of plain tasks a batch at a time, canvas sends between them.
    const results = new Array(planned.length);
    let run = [];
    const flush = () => {
      if (run.length === 0) return;
      this.broker.publishEntries(run.map((i) => results[i]), run.map((i) => planned[i]));
      run = [];
    };
    planned.forEach((item, i) => {
      if (typeof item === 'string') {
        results[i] = this._publishedResult(ids[i]);
        run.push(i);
      } else {
        flush();
        results[i] = this._send(item);
      }
    });
    flush();
    return results;
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
    return this._send(this._plan(taskName, args, kwargs, taskId, options));
  }

  /**
   * What a send will be, with its options checked: `{ canvas }`, a signature dict for a task
   * with callbacks (they travel as signature dicts, which the canvas path builds and routes), or
   * a prepared message routed by `conf.TASK_ROUTES`.
   */
  _plan(taskName, args, kwargs, taskId, options) {
    if (options && (options.link || options.linkError)) {
      const signature = new Signature(this, taskName, args || [], kwargs || {}, { ...options, taskId: taskId || options.taskId });
      return { canvas: signature.toDict() };
    }
    const route = routeOptions(this.conf.TASK_ROUTES, taskName, args, kwargs);
    return this._prepare(taskName, args, kwargs, taskId, route ? { ...route, ...options } : options);
  }

  _send(planned) {
    return planned.canvas ? sendCanvas(this, planned.canvas) : this._publish(planned);
  }

  /** Every check and conversion of a send, done once; throws before anything is queued. */
  _prepare(taskName, args, kwargs, taskId, options) {
    const protocol = this.conf.TASK_PROTOCOL;
    if (protocol !== 1 && protocol !== 2) {
      throw celeryError('ERR_CELERY_INVALID_OPTION', `TASK_PROTOCOL must be 1 or 2, got ${protocol}`, TypeError);
    }
    return {
      taskName,
      protocol,
      argsJson: toJson(args === undefined ? null : args, 'args', this.options),
      kwargsJson: kwargs === undefined ? null : toJson(kwargs, 'kwargs', this.options),
      queue: (options && options.queue) || this.conf.CELERY_QUEUE,
      taskId: taskId || (options && options.taskId) || randomUUID(),
      nativeOptions: sendOptions(options),
    };
  }

  _publishedResult(taskId) {
    return new AsyncResult(taskId, this.backend, { published: true, client: this });
  }

  _publish({ taskName, protocol, argsJson, kwargsJson, queue, taskId, nativeOptions }) {
    const broker = this.broker;
    const result = this._publishedResult(taskId);
    broker.publishTask(result, taskName, argsJson, kwargsJson, queue, protocol, nativeOptions);
    return result;
  }
}

module.exports = Client;
