'use strict';
// The RPC result backend (celery-node has none); implementation in lib/backends/rpc.js.
Object.defineProperty(exports, '__esModule', { value: true });
exports.default = require('../../lib/backends/rpc');
