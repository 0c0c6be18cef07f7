'use strict';

const BatchingBackend = require('./batching');
const { celeryError } = require('../errors');
const { amqpOptionsJson } = require('../transport-url');

/**
 * Celery's `rpc://` result backend: workers send every state of a task to the client's reply
 * queue on the AMQP broker, named by the client's oid (the `reply_to` of its messages). Waits
 * are batched (see BatchingBackend); a registration answers the states already received.
 */
class RpcBackend extends BatchingBackend {
  /** @param broker the client's AMQP broker: its connection settings and its reply queue */
  constructor(broker) {
    if (!broker || typeof broker.replyTo !== 'string' || !/^(amqps?|pyamqp):/i.test(String(broker.url))) {
      throw celeryError('ERR_CELERY_INVALID_OPTION', 'rpc:// results need an AMQP broker (amqp://, amqps://)');
    }
    super(broker.url, broker.opts, amqpOptionsJson(broker.opts), broker.replyTo);
  }

  _readsAlong() {
    return this.getTaskMeta === RpcBackend.prototype.getTaskMeta;
  }
}

module.exports = RpcBackend;
