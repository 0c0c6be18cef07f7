'use strict';
// What the native result backends share, shaped like celery-node's backends (getTaskMeta,
// isReady, disconnect) plus the push-based wait AsyncResult#get uses.

const { ResultBackendWrapper } = require('../../binding');
const { callNative, fromNative } = require('../errors');
const { parseMeta } = require('../result-decoding');

class NativeBackend {
  /** @param optionsJson the transport's options, already converted by the subclass */
  constructor(url, opts, optionsJson, rpcReplyTo) {
    this.url = url;
    this.opts = opts;
    this._native = callNative(() => new ResultBackendWrapper(url, optionsJson, rpcReplyTo));
    this.decoding = {}; // `decodeTypes` / `bigInt`, set by the client that owns this backend
  }

  isReady() {
    return this._native.ready().catch((e) => Promise.reject(fromNative(e)));
  }

  /** Resolves "OK", as ioredis' QUIT does for celery-node. */
  disconnect() {
    return this._native.close().then(() => 'OK', (e) => Promise.reject(fromNative(e)));
  }

  /** The stored meta object, or null when nothing is stored. */
  getTaskMeta(taskId) {
    return this._native.getTaskMeta(taskId).then((text) => parseMeta(text, this.decoding), (e) => Promise.reject(fromNative(e)));
  }

  /** { outcome: 'ready' | 'timeout' | 'cancelled' }: push-based wait used by AsyncResult#get. */
  _waitForReady(taskId, timeout, interval) {
    return this._native.waitForReady(taskId, timeout || null, interval).catch((e) => Promise.reject(fromNative(e)));
  }

  /** A native watcher of the task's states (Redis pub/sub or the RPC reply queue). */
  _watch(taskId) {
    return this._native.watch(taskId).catch((e) => Promise.reject(fromNative(e)));
  }

  /** Deletes (Redis) or drops (rpc://, amqp://) a task's result. */
  forget(taskId) {
    return this._native.forget(taskId).catch((e) => Promise.reject(fromNative(e)));
  }

  /** Python's `GroupResult.save()` / `restore()` layout (Redis). */
  _saveGroup(groupId, memberIds) {
    return this._native.saveGroup(groupId, memberIds).catch((e) => Promise.reject(fromNative(e)));
  }

  _restoreGroup(groupId) {
    return this._native.restoreGroup(groupId).catch((e) => Promise.reject(fromNative(e)));
  }

  /** Chord counting setup (Redis); rejects for backends without chord support. */
  _prepareChord(groupId, size) {
    return this._native.prepareChord(groupId, size).catch((e) => Promise.reject(fromNative(e)));
  }

  _cancelWait(taskId) {
    this._native.cancelWait(taskId);
  }
}

module.exports = NativeBackend;
