'use strict';

const Base = require('./base');
const { celeryError } = require('./errors');

/** The Node worker arrives with its own issue; until then it says so instead of half-working. */
class Worker extends Base {
  constructor(...args) {
    super(...args);
    throw celeryError('ERR_CELERY_NOT_SUPPORTED', 'createWorker / Worker are not available in this version of celery-native yet');
  }
}

module.exports = Worker;
