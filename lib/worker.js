'use strict';
// The Node worker: celery-node's Worker API over the native consumer (src/worker.rs). Rust
// decides when a task may run (revoked, expired, ETA, concurrency) and stores what it produced;
// this side calls the handler, enforces time limits and prints celery-node's log lines.

const os = require('node:os');
const Base = require('./base');
const { WorkerWrapper } = require('../binding');
const { callNative, celeryError, fromNative } = require('./errors');
const { schemeOf } = require('./transport-url');
const { TaskContext, Retry, TimeLimitExceeded, exceptionOf } = require('./task-context');

const DEFAULT_STOP_TIMEOUT_MS = 30_000;

class Worker extends Base {
  /**
   * @param {string} [broker]
   * @param {string} [backend]
   * @param {string} [queue]
   * @param {object} [options] concurrency, prefetch, acksLate, queues, trackStarted,
   *   visibilityTimeout (s), resultExpires (s), timeLimit / softTimeLimit (s, defaults for every
   *   task), stopTimeout (ms), handleSignals, hostname
   */
  constructor(broker, backend, queue, options = {}) {
    super(broker, backend, queue);
    this.handlers = {};
    this.activeTasks = new Set();
    this.options = { ...options };
    this._native = null;
    this._started = null;
    this._pump = null;
    this._stopping = null;
    this._signalHandler = null;
    this._contexts = new Map(); // jobId → TaskContext of the running handlers
  }

  /** Registers a handler, called as `fn(...args, kwargs)` with the task's context as `this`. */
  register(name, handler) {
    if (!handler) throw new Error('Undefined handler');
    if (this.handlers[name]) throw new Error('Handler is already set');
    this.handlers[name] = function run(...args) {
      try {
        return Promise.resolve(handler.apply(this, args));
      } catch (error) {
        return Promise.reject(error);
      }
    };
  }

  /**
   * Starts consuming. As celery-node's, it never rejects (errors are logged) and, on Redis,
   * resolves only once the worker stopped; on AMQP once it consumes. `whenStarted()` is the
   * promise to await for "consuming now".
   */
  start() {
    console.info('celery.node worker starting...');
    console.info(`registered task: ${Object.keys(this.handlers)}`);
    return this.whenStarted().then(
      () => (schemeOf(this.conf.CELERY_BROKER).startsWith('redis') ? this._pump : undefined),
      (error) => {
        console.error(error);
      },
    );
  }

  /** Resolves once the worker consumes; rejects with the connection error if it cannot. */
  whenStarted() {
    if (!this._started) {
      this._started = Promise.resolve().then(() => this._startNative());
      this._started.catch(() => {});
    }
    return this._started;
  }

  async _startNative() {
    const options = this.options;
    checkOptions(options);
    const queues = options.queues && options.queues.length ? [...options.queues] : [this.conf.CELERY_QUEUE];
    const broker = this.broker;
    const config = {
      queues,
      concurrency: options.concurrency || 0,
      prefetch: options.prefetch ?? (options.concurrency ? options.concurrency * 4 : 0),
      acksLate: Boolean(options.acksLate),
      trackStarted: Boolean(options.trackStarted),
      visibilityTimeout: options.visibilityTimeout,
      resultExpires: options.resultExpires,
      hostname: options.hostname || `celery-native@${os.hostname()}`,
    };
    this.hostname = config.hostname;
    this._native = callNative(() => new WorkerWrapper(broker.url, broker.optionsJson, this.backend._native, config));
    try {
      await this._native.start();
    } catch (error) {
      throw fromNative(error);
    }
    this._pump = this._pumpEvents();
    if (options.handleSignals) this._handleSignals();
  }

  async _pumpEvents() {
    for (;;) {
      const events = await this._native.nextEvents();
      if (!events) return;
      for (const event of events) {
        if (event.kind === 'run') this._run(event.job);
        else if (event.kind === 'terminated') this._terminated(Number(event.message));
        else this._log(event.level, event.message);
      }
    }
  }

  _log(level, message) {
    if (level === 'debug') return;
    if (level === 'error') console.error(`celery.node ${message}`);
    else if (level === 'warn') console.warn(`celery.node ${message}`);
    else console.info(`celery.node ${message}`);
  }

  _run(job) {
    const handler = this.handlers[job.name];
    if (!handler) {
      console.error(`Missing process handler for task ${job.name}`);
      this._finish(job, {
        status: 'FAILURE',
        excType: 'NotRegistered',
        excMessage: job.name,
        excModule: 'celery.exceptions',
      });
      return;
    }
    const args = JSON.parse(job.argsJson);
    const kwargs = JSON.parse(job.kwargsJson);
    console.info(`celery.node Received task: ${job.name}[${job.id}], args: ${args}, kwargs: ${JSON.stringify(kwargs)}`);
    const context = new TaskContext(this, job, args, kwargs);
    this._contexts.set(job.jobId, context);
    this.emit('task-received', context);
    const started = process.hrtime.bigint();
    // A task ends when its handler settles, or earlier at its hard time limit or a terminating
    // revoke; `activeTasks` holds it until then.
    let release;
    const done = new Promise((resolve) => (release = resolve));
    const timers = [];
    context._end = () => {
      timers.forEach(clearTimeout);
      this._contexts.delete(job.jobId);
      this.activeTasks.delete(done);
      release();
    };
    this.activeTasks.add(done);
    timers.push(...this._timeLimits(job, context));
    handler
      .call(context, ...args, kwargs)
      .then(
        (value) => this._succeeded(job, context, value, started),
        (error) => this._failed(job, context, error),
      )
      .finally(context._end);
  }

  /** The soft limit aborts `this.signal`; the hard limit ends the task as TimeLimitExceeded. */
  _timeLimits(job, context) {
    const timers = [];
    const soft = job.softTimeLimit ?? this.options.softTimeLimit;
    const hard = job.timeLimit ?? this.options.timeLimit;
    if (soft > 0) timers.push(setTimeout(() => context._abort('SoftTimeLimitExceeded'), soft * 1000));
    if (hard > 0) {
      timers.push(
        setTimeout(() => {
          context._abort('TimeLimitExceeded');
          const error = new TimeLimitExceeded(hard);
          console.error(`celery.node Task ${job.name}[${job.id}] failed: [${error}]`);
          this._finish(job, failure(error), context);
          context._end();
        }, hard * 1000),
      );
    }
    return timers;
  }

  /** Revoked with `terminate`: already stored as REVOKED; the handler is told through its signal. */
  _terminated(jobId) {
    const context = this._contexts.get(jobId);
    if (!context) return;
    context._finished = true;
    context._abort('revoked');
    context._end();
  }

  _succeeded(job, context, value, started) {
    if (context._finished) return;
    let resultJson;
    try {
      resultJson = JSON.stringify(value === undefined ? null : value);
    } catch (error) {
      this._failed(job, context, error);
      return;
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    console.info(`celery.node Task ${job.name}[${job.id}] succeeded in ${seconds}s: ${value}`);
    this._finish(job, { status: 'SUCCESS', resultJson }, context);
    this.emit('task-succeeded', context, value);
  }

  _failed(job, context, error) {
    if (context._finished) return;
    if (error instanceof Retry) {
      console.info(`celery.node Task ${job.name}[${job.id}] retry: ${error.message}`);
      this._finish(job, { ...failure(error.exc || error), status: 'RETRY', countdown: error.countdown }, context);
      this.emit('task-retried', context, error);
      return;
    }
    console.error(`celery.node Task ${job.name}[${job.id}] failed: [${error}]`);
    this._finish(job, failure(error), context);
    this.emit('task-failed', context, error);
  }

  _finish(job, outcome, context) {
    if (context) context._finished = true;
    try {
      this._native.finish(job.jobId, outcome);
    } catch (error) {
      console.error(fromNative(error));
    }
  }

  _handleSignals() {
    this._signalHandler = () => {
      this.stop().catch((error) => console.error(error));
    };
    process.once('SIGTERM', this._signalHandler);
    process.once('SIGINT', this._signalHandler);
  }

  /** celery-node's: resolves once every running handler has settled. */
  whenCurrentJobsFinished() {
    return Promise.all(this.activeTasks);
  }

  /**
   * Graceful shutdown: stop consuming, give back what has not started, let running tasks finish
   * (within `timeout` ms), store their results, acknowledge, close every connection.
   */
  stop({ timeout = this.options.stopTimeout ?? DEFAULT_STOP_TIMEOUT_MS } = {}) {
    if (!this._stopping) this._stopping = this._stop(timeout);
    return this._stopping;
  }

  async _stop(timeout) {
    if (this._signalHandler) {
      process.removeListener('SIGTERM', this._signalHandler);
      process.removeListener('SIGINT', this._signalHandler);
    }
    if (this._started) {
      await this._started.catch(() => {});
      if (this._native) {
        await this._native.stop(timeout);
        await this._pump;
      }
    }
    await Base.prototype.disconnect.call(this);
  }

  /** celery-node's: stops consuming and closes the connections, without waiting for tasks. */
  disconnect() {
    return this.stop({ timeout: 0 });
  }

  /**
   * celery-node's per-message handler, for a message object with `headers` and `decode()`: runs
   * the task's handler and stores its result as celery-node does. Throws for unknown tasks.
   */
  createTaskHandler() {
    return (message) => {
      const body = message.decode();
      const v2 = message.headers && message.headers.task;
      const name = v2 ? message.headers.task : body.task;
      const id = v2 ? message.headers.id : body.id;
      const [args, kwargs] = v2 ? body : [body.args || [], body.kwargs || {}];
      const handler = this.handlers[name];
      if (!handler) throw new Error(`Missing process handler for task ${name}`);
      console.info(`celery.node Received task: ${name}[${id}], args: ${args}, kwargs: ${JSON.stringify(kwargs)}`);
      return handler(...args, kwargs).then(
        (value) => this.backend.storeResult(id, value, 'SUCCESS'),
        (error) => this.backend.storeResult(id, error, 'FAILURE'),
      );
    };
  }
}

/** Worker options that must be numbers: counts are whole, times may have fractions. */
function checkOptions(options) {
  const check = (name, whole) => {
    const value = options[name];
    if (value == null) return;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (whole && !Number.isInteger(value))) {
      throw celeryError('ERR_CELERY_INVALID_OPTION', `invalid option ${name}: must be a ${whole ? 'whole ' : ''}number ≥ 0, got ${String(value)}`, TypeError);
    }
  };
  for (const name of ['concurrency', 'prefetch']) check(name, true);
  for (const name of ['visibilityTimeout', 'resultExpires', 'timeLimit', 'softTimeLimit', 'stopTimeout']) check(name, false);
  if (options.queues != null && (!Array.isArray(options.queues) || options.queues.some((q) => typeof q !== 'string' || !q))) {
    throw celeryError('ERR_CELERY_INVALID_OPTION', 'invalid option queues: must be an array of queue names', TypeError);
  }
}

/** The outcome fields of a failure: Python rebuilds `exc_module.exc_type(exc_message)`. */
function failure(error) {
  const { excType, excMessage, excModule, traceback } = exceptionOf(error);
  return { status: 'FAILURE', excType, excMessage, excModule, traceback };
}

module.exports = Worker;
