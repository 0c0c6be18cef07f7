'use strict';

const { EventEmitter } = require('node:events');
const { defaultConf } = require('./conf');
const { newCeleryBroker } = require('./brokers');
const { newCeleryBackend } = require('./backends');

/**
 * What Client (and later Worker) share: a per-instance `conf`, and a broker and backend created
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
      this._broker = newCeleryBroker(this.conf.CELERY_BROKER, this.conf.CELERY_BROKER_OPTIONS);
      // Publish failures reach the caller through `result.sent` / `get()`; listeners of
      // 'error' hear about them too. Without a listener nothing is thrown.
      this._broker.onPublishError = (error) => {
        if (this.listenerCount('error') > 0) this.emit('error', error);
      };
    }
    return this._broker;
  }

  get backend() {
    if (!this._backend) this._backend = newCeleryBackend(this.conf.CELERY_BACKEND, this.conf.CELERY_BACKEND_OPTIONS);
    return this._backend;
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
