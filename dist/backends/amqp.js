'use strict';
// celery-node's deep-import path; the implementation lives in lib/backends/amqp.js.
Object.defineProperty(exports, '__esModule', { value: true });
exports.default = require('../../lib/backends/amqp');
