'use strict';
// Task ids of the fan-in scenario: UUID-shaped, with a per-run prefix so that the harness and its
// storing child compute the same ids without passing 100,000 of them around.

const crypto = require('node:crypto');

function newPrefix() {
  return crypto.randomBytes(4).toString('hex');
}

function fanInId(prefix, i) {
  return `${prefix}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
}

module.exports = { newPrefix, fanInId };
