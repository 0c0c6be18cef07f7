'use strict';
// Calls made in the same tick, answered by one native call: the `getTaskMeta`s of a loop cost one
// MGET between them instead of one native Promise each.

/** Keys per native call (one MGET, one SUBSCRIBE). */
const MAX_BATCH = 10_000;

class TickBatch {
  /** @param run (keys) => Promise<values in the same order> */
  constructor(run) {
    this._run = run;
    this._keys = [];
    this._waiters = [];
  }

  /** The answer for `key`: `run`'s value at its position. */
  request(key) {
    if (this._keys.length === 0) queueMicrotask(() => this._flush());
    this._keys.push(key);
    return new Promise((resolve, reject) => this._waiters.push(resolve, reject));
  }

  _flush() {
    const keys = this._keys;
    const waiters = this._waiters; // resolve, reject, resolve, reject, ...
    this._keys = [];
    this._waiters = [];
    for (let from = 0; from < keys.length; from += MAX_BATCH) {
      const to = Math.min(from + MAX_BATCH, keys.length);
      Promise.resolve()
        .then(() => this._run(keys.slice(from, to)))
        .then(
          (values) => {
            for (let i = from; i < to; i += 1) waiters[2 * i](values[i - from]);
          },
          (error) => {
            for (let i = from; i < to; i += 1) waiters[2 * i + 1](error);
          },
        );
    }
  }
}

module.exports = { TickBatch, MAX_BATCH };
