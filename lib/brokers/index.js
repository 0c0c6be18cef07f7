'use strict';

const RedisBroker = require('./redis');
const AMQPBroker = require('./amqp');
const { schemeOf, unsupported } = require('../transport-url');

/** celery-node's factory: the broker for a URL, or `Unsupported type: <scheme>`. */
function newCeleryBroker(url, opts) {
  switch (schemeOf(url)) {
    case 'redis':
    case 'rediss':
    case 'redis+socket':
      return new RedisBroker(url, opts);
    case 'amqp':
    case 'amqps':
    case 'pyamqp':
      return new AMQPBroker(url, opts);
    default:
      throw unsupported(url);
  }
}

module.exports = { newCeleryBroker };
