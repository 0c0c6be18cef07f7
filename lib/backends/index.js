'use strict';

const RedisBackend = require('./redis');
const AMQPBackend = require('./amqp');
const { schemeOf, unsupported } = require('../transport-url');

/** celery-node's factory: the backend for a URL, or `Unsupported type: <scheme>`. */
function newCeleryBackend(url, opts) {
  switch (schemeOf(url)) {
    case 'redis':
    case 'rediss':
    case 'redis+socket':
    case 'socket':
      return new RedisBackend(url, opts);
    case 'amqp':
    case 'amqps':
    case 'pyamqp':
      return new AMQPBackend(url, opts);
    default:
      throw unsupported(url);
  }
}

module.exports = { newCeleryBackend };
