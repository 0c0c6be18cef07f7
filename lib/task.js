'use strict';

const { celeryError } = require('./errors');
const { Signature } = require('./canvas');

class Task {
  /** @param defaultOptions options every call of this task gets (a call's own options win) */
  constructor(client, name, defaultOptions) {
    this.client = client;
    this.name = name;
    if (defaultOptions) this.defaultOptions = { ...defaultOptions };
  }

  /** Sends the task; returns its AsyncResult at once (celery-node's checks and defaults). */
  applyAsync(args, kwargs, options) {
    if (args && !Array.isArray(args)) throw celeryError('ERR_CELERY_INVALID_ARGUMENT', 'args is not array');
    if (kwargs && typeof kwargs !== 'object') throw celeryError('ERR_CELERY_INVALID_ARGUMENT', 'kwargs is not object');
    const merged = this.defaultOptions ? { ...this.defaultOptions, ...options } : options;
    return this.client.sendTask(this.name, args || [], kwargs || {}, undefined, merged);
  }

  /** A signature of this task with partial arguments (Python's `task.s(...)`). */
  s(...args) {
    return new Signature(this.client, this.name, args, {}, this.defaultOptions);
  }

  /** An immutable signature: the parent's result is not prepended (Python's `task.si(...)`). */
  si(...args) {
    return new Signature(this.client, this.name, args, {}, this.defaultOptions, { immutable: true });
  }

  /** `delay(a, b)` ≡ `applyAsync([a, b])`; a trailing object is a positional argument. */
  delay(...args) {
    return this.applyAsync(args);
  }
}

module.exports = Task;
