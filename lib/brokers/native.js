'use strict';
// What every broker shares: a synchronous native `publish` that only queues, and one pump that
// settles the `sent` state of published results batch by batch. While anything is in flight the
// pump's pending Promise keeps the process alive; when nothing is, the broker holds the process
// open with nothing. The transport is chosen natively from the URL.

const { ClientWrapper } = require('../../binding');
const { callNative, celeryError, fromNative } = require('../errors');

/** Messages per native `publishBatch` call: large enough to amortise the call, small enough
 * that its strings die young. */
const BATCH_SIZE = 1000;

/** A prepared message as `publishBatch` reads it: `[name, id, args, kwargs, queue, protocol, options]`. */
function batchEntry({ taskName, taskId, argsJson, kwargsJson, queue, protocol, nativeOptions }) {
  const options = nativeOptions ? JSON.stringify(nativeOptions) : 'null';
  return `[${JSON.stringify(taskName)},${JSON.stringify(taskId)},${argsJson},${kwargsJson === null ? 'null' : kwargsJson},${JSON.stringify(queue)},${protocol},${options}]`;
}

class NativeBroker {
  /** @param optionsJson the transport's options, already converted by the subclass */
  constructor(url, opts, optionsJson) {
    this.url = url;
    this.opts = opts;
    this.optionsJson = optionsJson;
    this._native = callNative(() => new ClientWrapper(url, optionsJson));
    this._nextSeq = 1;
    this._inFlight = new Map(); // seq → AsyncResult
    this._pump = null;
    this._sentAwaited = 0; // results in flight whose `sent` someone awaits
    this.onPublishError = null;
  }

  /** A result's `sent` is awaited: from now on its completion is handed over at once. */
  _awaitingSent() {
    this._sentAwaited += 1;
    if (this._sentAwaited === 1 && this._pump) this._native.hurry();
  }

  /** An awaited `sent` settled. */
  _sentSettled() {
    this._sentAwaited -= 1;
  }

  /** The oid written as `reply_to` on every message: the RPC backend's reply queue. */
  get replyTo() {
    return this._native.replyTo;
  }

  isReady() {
    return this._native.ready().catch((e) => Promise.reject(fromNative(e)));
  }

  /** Flushes every queued message, settles their `sent`, then closes. */
  async disconnect() {
    try {
      await this._native.close();
    } catch (e) {
      throw fromNative(e);
    }
    if (this._pump) await this._pump;
  }

  /** Queues one task message; throws synchronously only for invalid arguments. */
  publishTask(result, taskName, argsJson, kwargsJson, queue, protocol, options) {
    const seq = this._nextSeq++;
    callNative(() => this._native.publish(seq, taskName, result.taskId, argsJson, kwargsJson, queue, protocol, options));
    this._inFlight.set(seq, result);
    if (!this._pump) this._pump = this._settleCompletions();
  }

  /**
   * Queues many task messages given as their `batchEntry` texts, a thousand per native call;
   * `results[i]` tracks the i-th.
   */
  publishEntries(results, entries) {
    for (let start = 0; start < entries.length; start += BATCH_SIZE) {
      const chunk = entries.slice(start, start + BATCH_SIZE);
      const firstSeq = this._nextSeq;
      callNative(() => this._native.publishBatch(firstSeq, `[${chunk.join(',')}]`));
      this._nextSeq += chunk.length;
      chunk.forEach((_, i) => this._inFlight.set(firstSeq + i, results[start + i]));
    }
    if (!this._pump) this._pump = this._settleCompletions();
  }

  /** Publishes a planned canvas; `results[i]` tracks its i-th message. */
  publishPlan(plan, results, defaultQueue) {
    const firstSeq = this._nextSeq;
    this._nextSeq += results.length;
    results.forEach((result, i) => this._inFlight.set(firstSeq + i, result));
    callNative(() => this._native.publishPlan(plan, firstSeq, defaultQueue));
    if (!this._pump) this._pump = this._settleCompletions();
  }

  async _settleCompletions() {
    try {
      while (this._inFlight.size > 0) {
        // Nobody awaiting a `sent`: successes come in batches (a get() only needs failures).
        const batches = await this._native.nextCompletions(this._sentAwaited > 0);
        for (const { seqs, code, message } of batches) {
          for (const seq of seqs) {
            const result = this._inFlight.get(seq);
            if (!result) continue;
            this._inFlight.delete(seq);
            const error = code ? celeryError(code, `${message} (task ${result.taskId})`) : null;
            if (error) error.taskId = result.taskId;
            result._settleSent(error);
            if (error && this.onPublishError) this.onPublishError(error);
          }
        }
      }
    } finally {
      this._pump = null;
    }
  }
}

module.exports = NativeBroker;
module.exports.batchEntry = batchEntry;
