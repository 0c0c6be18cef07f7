'use strict';

const NativeBroker = require('./native');
const { amqpOptionsJson } = require('../transport-url');

/** RabbitMQ with publisher confirms (celery-node's AMQPBroker). */
class AMQPBroker extends NativeBroker {
  constructor(url, opts = {}) {
    super(url, opts, amqpOptionsJson(opts));
  }
}

module.exports = AMQPBroker;
