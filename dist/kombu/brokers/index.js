'use strict';
// celery-node's deep-import path; the implementation lives in lib/brokers/index.js.
Object.defineProperty(exports, '__esModule', { value: true });
exports.newCeleryBroker = require('../../../lib/brokers').newCeleryBroker;
