'use strict';
// celery-node's deep-import path; the implementation lives in index.js.

module.exports = require('../index');
