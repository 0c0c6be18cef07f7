'use strict';
// Small shared pieces of the JS test suites.

const { randomUUID } = require('node:crypto');
const { redisUrl, redisCommand } = require('./support/services');

/** A queue name no other test uses. */
function uniqueQueue(label) {
  return `cn-${label}-${randomUUID().slice(0, 8)}`;
}

/** Deletes a queue's lists (all priority buckets) and binding sets. */
async function dropQueue(url, queue) {
  const keys = [queue, ...[3, 6, 9].map((p) => `${queue}\x06\x16${p}`), `_kombu.binding.${queue}`, `_kombu.binding_permanent.${queue}`];
  await redisCommand(url, 'DEL', ...keys);
}

/** Resolves when `check()` is truthy; for states that live in another process. */
async function eventually(check, { timeout = 10_000, every = 10 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, every));
  }
}

module.exports = { uniqueQueue, dropQueue, eventually, redisUrl, redisCommand };
