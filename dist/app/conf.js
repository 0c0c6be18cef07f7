'use strict';
// celery-node's deep-import path; the implementation lives in lib/conf.js.
Object.defineProperty(exports, '__esModule', { value: true });
exports.defaultConf = require('../../lib/conf').defaultConf;
