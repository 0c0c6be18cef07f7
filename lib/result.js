'use strict';

const { celeryError } = require('./errors');
const { parseMeta } = require('./result-decoding');

const READY_STATES = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);
const FAILURE_CODES = { FAILURE: 'ERR_CELERY_TASK_FAILED', REVOKED: 'ERR_CELERY_TASK_REVOKED' };

/** celery-node's rejection: Error(status) carrying the stored result's keys. */
function taskError(taskId, meta) {
  const error = new Error(meta.status);
  if (meta.result && typeof meta.result === 'object') Object.assign(error, meta.result);
  if (error.code === undefined) error.code = FAILURE_CODES[meta.status];
  error.taskId = taskId;
  if (meta.traceback != null && error.traceback === undefined) error.traceback = meta.traceback;
  return error;
}

/** What `get()` settles with: the result on SUCCESS, a rejection otherwise. */
function outcomeOf(taskId, meta) {
  return meta.status === 'SUCCESS' ? meta.result : Promise.reject(taskError(taskId, meta));
}

function timeoutError(taskId) {
  const error = celeryError('ERR_CELERY_TIMEOUT', 'TIMEOUT');
  error.taskId = taskId;
  return error;
}

/**
 * One pending `get()` on a batching backend: the backend calls `stored` (what was there when it
 * subscribed), `pushed` (a ready state published later), `fail`, `disconnected` or `fallback`
 * (no pub/sub: wait on its own); the first outcome settles it. One object and no Promise chain per
 * pending `get()`.
 */
class BatchWait {
  /** @param unwrap settle as `get()` does (the task's result, or its error) rather than with the meta */
  constructor(result, resolve, reject, timeout, interval, unwrap) {
    this.result = result;
    this.resolve = resolve;
    this.reject = reject;
    this.timeout = timeout;
    this.interval = interval;
    this.unwrap = unwrap;
    this.timer = null;
    this.registers = false;
  }

  stored(meta) {
    if (meta && READY_STATES.has(meta.status)) this._done(meta);
  }

  /** The stored meta as JSON text, read with the subscription (null: nothing stored). */
  storedText(text) {
    if (text != null && this.resolve) this.stored(this._parse(text));
  }

  pushed(text) {
    if (!this.resolve) return;
    const meta = this._parse(text);
    if (meta) this._done(meta);
  }

  /** The meta, or undefined after failing with the parse error. */
  _parse(text) {
    try {
      return parseMeta(text, this.result.backend.decoding);
    } catch (error) {
      this.fail(error);
      return undefined;
    }
  }

  disconnected() {
    this.fail(celeryError('ERR_CELERY_DISCONNECTED', `waiting for task ${this.result.taskId} was cancelled: the client is disconnected`));
  }

  fallback(error) {
    if (error && error.code === 'ERR_CELERY_DISCONNECTED') {
      this.fail(error);
      return;
    }
    const { resolve, reject } = this;
    this._finish();
    if (!resolve) return;
    const waiting = this.result._pushWait(this.timeout, this.interval);
    (this.unwrap ? waiting.then((meta) => outcomeOf(this.result.taskId, meta)) : waiting).then(resolve, reject);
  }

  fail(error) {
    const { reject } = this;
    this._finish();
    if (reject) reject(error);
  }

  _done(meta) {
    const { resolve } = this;
    this._finish();
    if (!resolve) return;
    this.result._final = meta;
    resolve(this.unwrap ? outcomeOf(this.result.taskId, meta) : meta);
  }

  _finish() {
    if (!this.resolve) return;
    this.resolve = null;
    this.reject = null;
    clearTimeout(this.timer);
    this.result.backend._cancelReady(this);
  }
}

/** The longest delay setTimeout keeps (2^31 − 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A published result's `sent` state until someone asks for it: no object per message. */
const SENDING = Object.freeze({ settled: false, error: null });
/** Where a result keeps its client: not enumerable by JSON.stringify or Object.keys. */
const CLIENT = Symbol('client');

class AsyncResult {
  /**
   * @param backend any object with `getTaskMeta(taskId)`; it is looked up at call time, so spies
   *   and user-supplied backends work. Backends of this package also offer a push-based wait.
   */
  constructor(taskId, backend, { published = false, client } = {}) {
    this.taskId = taskId;
    this.backend = backend;
    this[CLIENT] = client;
    this._final = null; // the ready meta, once seen: later calls do not touch the backend
    this._reading = null;
    // SENDING, then null once sent; an object with waiters while someone waits, or after a failure.
    this._sendState = published ? SENDING : null;
  }

  /** The client that made this result (revoke needs it). */
  get client() {
    return this[CLIENT];
  }

  /** The send state as an object that can hold waiters. */
  _waitableSendState() {
    if (this._sendState === SENDING) this._sendState = { settled: false, error: null, promise: null, waiters: [] };
    return this._sendState;
  }

  /** Settles when the broker has the message; rejects with the publish error. */
  get sent() {
    if (!this._sendState) return Promise.resolve(this.taskId);
    const state = this._waitableSendState();
    if (!state.promise) {
      if (state.settled) {
        state.promise = Promise.reject(state.error);
      } else {
        state.promise = new Promise((resolve, reject) => state.waiters.push({ resolve, reject }));
        const client = this[CLIENT];
        if (client) client.broker._awaitingSent();
      }
    }
    return state.promise;
  }

  _settleSent(error) {
    const state = this._sendState;
    // The broker counts the results whose `sent` is awaited (see the `sent` getter).
    if (state && state !== SENDING && state.promise && !state.settled && this[CLIENT]) this[CLIENT].broker._sentSettled();
    this._sendState = error ? { settled: true, error, promise: null, waiters: [] } : null;
    if (state && state !== SENDING) {
      for (const { resolve, reject } of state.waiters) {
        if (error) reject(error);
        else resolve(this.taskId);
      }
    }
    if (error && typeof this.backend._cancelWait === 'function') this.backend._cancelWait(this.taskId);
  }

  /** A promise that rejects if publishing fails; null when it cannot fail any more. */
  _publishFailure() {
    if (!this._sendState) return null;
    const state = this._waitableSendState();
    if (state.settled) return Promise.reject(state.error);
    return new Promise((_, reject) => state.waiters.push({ resolve: () => {}, reject }));
  }

  /** Waits for a ready state; resolves the result on SUCCESS, rejects otherwise. */
  get(timeout, interval = 500) {
    // Nothing to race against (no publish in flight): the wait record settles get() itself.
    if (!this._final && !this._sendState && typeof this.backend._awaitReady === 'function') return this._batchWait(timeout, interval, true);
    const outcome = (meta) => outcomeOf(this.taskId, meta);
    if (this._final) return Promise.resolve(this._final).then(outcome);
    return this._waitForReady(timeout, interval).then(outcome);
  }

  /**
   * Revokes the task as Python's `result.revoke()`: workers online discard it (or, with
   * `terminate`, kill it with `signal`). Needs the client that made this result.
   */
  revoke({ terminate = false, signal = 'SIGTERM' } = {}) {
    if (!this.client) {
      return Promise.reject(celeryError('ERR_CELERY_INVALID_ARGUMENT', 'revoke() needs a result made by a client (sendTask, applyAsync, asyncResult)'));
    }
    return this.client.revoke([this.taskId], { terminate, signal });
  }

  /** Deletes the stored result (Python's `forget()`); later lookups find nothing. */
  async forget() {
    this._final = null;
    if (typeof this.backend.forget === 'function') await this.backend.forget(this.taskId);
  }

  /**
   * Every state the task goes through, as it happens (`{status, result, ...}` metas: STARTED,
   * PROGRESS with its meta, RETRY, then SUCCESS / FAILURE / REVOKED), starting with the current
   * one; pushed, not polled. Ends after a ready state, or when the loop is left.
   */
  async *states() {
    const watcher = await this.backend._watch(this.taskId);
    const state = this._sendState;
    if (state && state.error) {
      watcher.close();
      throw state.error; // its publish failed before the watch began
    }
    try {
      yield* this._statesFrom(watcher);
    } finally {
      watcher.close();
    }
  }

  /** The metas a native watcher delivers, until a ready state or the watch's end. */
  async *_statesFrom(watcher) {
    let previous = null;
    for (;;) {
      const text = await watcher.next();
      if (text == null) {
        // The watch ended without a ready state: this client's publish of the task failed, or
        // the client disconnected.
        const state = this._sendState;
        if (state && state.error) throw state.error;
        return;
      }
      if (text === previous) continue; // the same state seen again after a reconnect
      previous = text;
      const meta = parseMeta(text, this.backend.decoding);
      yield meta;
      if (READY_STATES.has(meta.status)) {
        this._final = meta;
        return;
      }
    }
  }

  /**
   * Calls `listener(meta)` for every state change until a ready state (see `states()`).
   * Returns a function that stops listening at once. Errors go to `onError`, or are dropped.
   */
  onProgress(listener, onError) {
    let watcher = null;
    let stopped = false;
    (async () => {
      watcher = await this.backend._watch(this.taskId);
      if (stopped) return;
      for await (const meta of this._statesFrom(watcher)) {
        if (stopped) return;
        listener(meta);
      }
    })()
      .catch((error) => onError && onError(error))
      .finally(() => watcher && watcher.close());
    return () => {
      stopped = true;
      if (watcher) watcher.close(); // ends the pending wait, releasing the subscription
    };
  }

  /** One lookup, no waiting: the stored result, or null. */
  async result() {
    const meta = this._final || (await this._lookup());
    return meta ? meta.result : null;
  }

  /** One lookup, no waiting: the stored status, or null (not "PENDING") when nothing is stored. */
  async status() {
    const meta = this._final || (await this._lookup());
    return meta ? meta.status : null;
  }

  /** One backend read; calls made while one is in flight share it. */
  _lookup() {
    if (!this._reading) {
      let read;
      try {
        read = Promise.resolve(this.backend.getTaskMeta(this.taskId));
      } catch (error) {
        read = Promise.reject(error); // a user backend that throws instead of rejecting
      }
      this._reading = read.then(
        (meta) => {
          this._reading = null;
          if (meta && READY_STATES.has(meta.status)) this._final = meta;
          return meta;
        },
        (error) => {
          this._reading = null;
          throw error;
        },
      );
    }
    return this._reading;
  }

  _waitForReady(timeout, interval) {
    const failure = this._publishFailure();
    let wait;
    if (typeof this.backend._awaitReady === 'function') wait = this._batchWait(timeout, interval);
    else if (typeof this.backend._waitForReady === 'function') wait = this._pushWait(timeout, interval);
    else wait = this._pollWait(timeout, interval);
    return failure ? Promise.race([wait, failure]) : wait;
  }

  /** Redis: one wait record, settled by the backend's batches (see `BatchWait`). */
  _batchWait(timeout, interval, unwrap = false) {
    return new Promise((resolve, reject) => {
      const wait = new BatchWait(this, resolve, reject, timeout, interval, unwrap);
      // A timeout setTimeout cannot hold (Infinity, more than ~24 days) is no limit, as before.
      if (timeout > 0 && timeout <= MAX_TIMER_MS) wait.timer = setTimeout(() => wait.fail(timeoutError(this.taskId)), timeout);
      this.backend._awaitReady(this.taskId, wait);
    });
  }

  /** Our backends signal readiness; the meta itself is then read once through getTaskMeta. */
  async _pushWait(timeout, interval) {
    for (;;) {
      const { outcome } = await this.backend._waitForReady(this.taskId, timeout, interval);
      if (outcome === 'timeout') throw timeoutError(this.taskId);
      if (outcome === 'cancelled') {
        const state = this._sendState;
        throw (state && state.error) || celeryError('ERR_CELERY_DISCONNECTED', `waiting for task ${this.taskId} was cancelled: the client is disconnected`);
      }
      const meta = this._final || (await this._lookup());
      if (meta && READY_STATES.has(meta.status)) return meta;
    }
  }

  /** celery-node's polling, for backends that can only be asked: first look after `interval`. */
  _pollWait(timeout, interval) {
    return new Promise((resolve, reject) => {
      let busy = false;
      const finish = (fn, value) => {
        clearInterval(poller);
        clearTimeout(timer);
        fn(value);
      };
      const poller = setInterval(async () => {
        if (busy) return;
        busy = true;
        try {
          const meta = await this._lookup();
          if (meta && READY_STATES.has(meta.status)) finish(resolve, meta);
        } catch (error) {
          finish(reject, error);
        } finally {
          busy = false;
        }
      }, interval);
      const timer = timeout ? setTimeout(() => finish(reject, timeoutError(this.taskId)), timeout) : null;
    });
  }
}

module.exports = { AsyncResult };
