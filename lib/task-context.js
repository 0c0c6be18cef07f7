'use strict';
// What a handler sees as `this`: the task's request (Celery's `self.request`), `updateState`,
// `retry`, and an AbortSignal that fires at the soft time limit. Plus the exceptions a worker
// stores under Celery's own names, so Python raises the matching class.

const { fromNative } = require('./errors');

class Retry extends Error {
  constructor(message, { countdown, exc } = {}) {
    super(message);
    this.name = 'Retry';
    this.countdown = countdown;
    this.exc = exc;
    this.excModule = 'celery.exceptions';
  }
}

class MaxRetriesExceededError extends Error {
  constructor(message) {
    super(message);
    this.name = 'MaxRetriesExceededError';
    this.excModule = 'celery.exceptions';
  }
}

class TimeLimitExceeded extends Error {
  constructor(seconds) {
    super(String(seconds));
    this.name = 'TimeLimitExceeded';
    this.excModule = 'celery.exceptions';
  }
}

/** Celery's default `max_retries`. */
const DEFAULT_MAX_RETRIES = 3;

class TaskContext {
  constructor(worker, job, args, kwargs) {
    this._worker = worker;
    this._job = job;
    this._finished = false;
    this._end = () => {};
    this._controller = new AbortController();
    this.id = job.id;
    this.name = job.name;
    this.args = args;
    this.kwargs = kwargs;
    this.retries = job.retries;
    this.headers = JSON.parse(job.headersJson);
    this.eta = job.eta ?? null;
    this.expires = job.expires ?? null;
    this.rootId = job.rootId ?? null;
    this.parentId = job.parentId ?? null;
    this.groupId = job.groupId ?? null;
    this.groupIndex = job.groupIndex ?? null;
    this.replyTo = job.replyTo ?? null;
    this.correlationId = job.correlationId ?? null;
    this.timeLimit = job.timeLimit ?? null;
    this.softTimeLimit = job.softTimeLimit ?? null;
    this.deliveryInfo = { routingKey: job.deliveryQueue, redelivered: job.redelivered };
    this.hostname = worker.hostname;
  }

  /** Aborted at the soft time limit (reason `SoftTimeLimitExceeded`) or the hard one. */
  get signal() {
    return this._controller.signal;
  }

  _abort(reason) {
    if (!this._controller.signal.aborted) this._controller.abort(reason);
  }

  /** Stores an intermediate state (Celery's `update_state`), e.g. `PROGRESS` with a meta. */
  updateState(state = 'PROGRESS', meta = null) {
    return this._worker._native
      .updateState(this._job.jobId, String(state), JSON.stringify(meta === undefined ? null : meta))
      .catch((error) => Promise.reject(fromNative(error)));
  }

  /**
   * Celery's `self.retry()`: throws a `Retry` to end this run; the task is sent again with
   * `retries + 1` after `countdown` seconds (default 180). Past `maxRetries` (default 3) it
   * throws `exc`, or `MaxRetriesExceededError`, instead.
   */
  retry({ countdown, exc, maxRetries = DEFAULT_MAX_RETRIES } = {}) {
    if (maxRetries !== null && this.retries >= maxRetries) {
      throw exc || new MaxRetriesExceededError(`Can't retry ${this.name}[${this.id}] args:${JSON.stringify(this.args)} kwargs:${JSON.stringify(this.kwargs)}`);
    }
    const when = countdown === undefined ? 'in 180s' : `in ${countdown}s`;
    throw new Retry(`Retry ${when}${exc ? `: ${exc}` : ''}`, { countdown, exc });
  }
}

/**
 * How an exception is stored: `exc_type` is the error's name, `exc_message` its message,
 * `exc_module` `builtins` unless the error names one (`excModule`), the stack as traceback.
 */
function exceptionOf(error) {
  if (error instanceof Error) {
    return {
      excType: error.name || 'Error',
      excMessage: error.message,
      excModule: typeof error.excModule === 'string' ? error.excModule : 'builtins',
      traceback: error.stack || null,
    };
  }
  let message;
  try {
    message = typeof error === 'string' ? error : JSON.stringify(error);
  } catch {
    message = String(error);
  }
  return { excType: 'Error', excMessage: String(message), excModule: 'builtins', traceback: null };
}

module.exports = { TaskContext, Retry, MaxRetriesExceededError, TimeLimitExceeded, exceptionOf };
