'use strict';
// celery-node's deep-import path; the implementation lives in lib/result.js.
Object.defineProperty(exports, '__esModule', { value: true });
exports.AsyncResult = require('../../lib/result').AsyncResult;
