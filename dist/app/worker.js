'use strict';
// celery-node's deep-import path; the implementation lives in lib/worker.js.
Object.defineProperty(exports, '__esModule', { value: true });
exports.default = require('../../lib/worker');
