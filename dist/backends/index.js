'use strict';
// celery-node's deep-import path; the implementation lives in lib/backends/index.js.
Object.defineProperty(exports, '__esModule', { value: true });
exports.newCeleryBackend = require('../../lib/backends').newCeleryBackend;
