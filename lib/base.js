'use strict';

const { EventEmitter } = require('node:events');
const { defaultConf } = require('./conf');
const { newCeleryBroker } = require('./brokers');
const { newCeleryBackend } = require('./backends');
const RpcBackend = require('./backends/rpc');
const { schemeOf } = require('./transport-url');

/**
 * What Client and Worker share: a per-instance `conf`, and a broker and backend created
 * from it on first access, so that changes to `conf` made before first use take effect.
 */
class Base extends EventEmitter {
  constructor(broker = 'amqp://', backend = 'amqp://', queue = 'celery') {
    super();
    this.conf = defaultConf();
    this.conf.CELERY_BROKER = broker;
    this.conf.CELERY_BACKEND = backend;
    this.conf.CELERY_QUEUE = queue;
    this._broker = null;
    this._backend = null;
  }

  get broker() {
    if (!this._broker) {
      // With rpc:// results the broker declares the reply queue before the first task, so no
      // reply can be dropped.
      const options = this._rpcResults()
        ? { ...this.conf.CELERY_BROKER_OPTIONS, declareReplyQueue: true, replyQueueExpires: this._resultExpiresMs() }
        : this.conf.CELERY_BROKER_OPTIONS;
      this._broker = newCeleryBroker(this.conf.CELERY_BROKER, options);
      // Python's task_send_sent_event, for monitors such as Flower (clients only).
      if (this.options && this.options.sendSentEvent) this._broker._native.sendSentEvents(true);
      // Publish failures reach the caller through `result.sent` / `get()`; listeners of
      // 'error' hear about them too. Without a listener nothing is thrown.
      this._broker.onPublishError = (error) => {
        if (this.listenerCount('error') > 0) this.emit('error', error);
      };
    }
    return this._broker;
  }

  get backend() {
    if (!this._backend) {
      this._backend = this._rpcResults()
        ? new RpcBackend(this.broker)
        : newCeleryBackend(this.conf.CELERY_BACKEND, this._backendOptions());
      // How results are decoded (`decodeTypes`, `bigInt`): read at every parse.
      if (this.options) this._backend.decoding = this.options;
    }
    return this._backend;
  }

  /** `conf.RESULT_EXPIRES` (seconds, Celery's `result_expires`), in ms; undefined when not set. */
  _resultExpiresMs() {
    const seconds = this.conf.RESULT_EXPIRES;
    return seconds > 0 ? Math.round(seconds * 1000) : undefined;
  }

  /** The backend options, with `conf.RESULT_EXPIRES` where the backend uses an expiry. */
  _backendOptions() {
    const options = this.conf.CELERY_BACKEND_OPTIONS;
    const seconds = this.conf.RESULT_EXPIRES;
    if (seconds == null || !options || typeof options !== 'object') return options;
    return { CELERY_RESULT_EXPIRES: this._resultExpiresMs(), ...options, resultExpiresSecs: seconds };
  }

  _rpcResults() {
    return schemeOf(this.conf.CELERY_BACKEND) === 'rpc';
  }

  /** Resolves once broker and backend answer; rejects with the first connection error. */
  isReady() {
    return Promise.all([this.backend.isReady(), this.broker.isReady()]);
  }

  /** Sends what is queued, closes the broker, then the backend (resolves the backend's value). */
  disconnect() {
    const broker = this.broker;
    const backend = this.backend;
    return broker.disconnect().then(() => backend.disconnect());
  }
}

module.exports = Base;
