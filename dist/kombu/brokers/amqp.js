'use strict';
// celery-node's deep-import path; the implementation lives in lib/brokers/amqp.js.
Object.defineProperty(exports, '__esModule', { value: true });
exports.default = require('../../../lib/brokers/amqp');
