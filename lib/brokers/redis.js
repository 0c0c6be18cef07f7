'use strict';

const NativeBroker = require('./native');
const { redisOptionsJson } = require('../transport-url');

/** The kombu Redis transport (celery-node's RedisBroker). */
class RedisBroker extends NativeBroker {
  constructor(url, opts = {}) {
    super(url, opts, redisOptionsJson(opts));
  }
}

module.exports = RedisBroker;
