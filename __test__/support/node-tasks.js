'use strict';
// The JS tasks the Node-worker tests register: each shows one part of the worker contract.

const { setTimeout: delay } = require('node:timers/promises');

class ValidationError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ValidationError';
  }
}

const tasks = {
  'node.add': (a, b) => a + b,
  'node.mul': (a, b) => a * b,
  'node.tsum': (numbers) => numbers.reduce((sum, n) => sum + n, 0),
  'node.echo': (...all) => {
    const kwargs = all.pop();
    return { args: all, kwargs };
  },
  'node.fail': (message) => {
    throw new TypeError(message);
  },
  'node.invalid': (message) => {
    throw new ValidationError(message);
  },
  'node.sleep': async (ms) => {
    await delay(ms);
    return ms;
  },
  'node.hang': () => new Promise(() => {}),
  /** Retries (countdown 0.05 s) until it has been retried `times` times. */
  'node.flaky': function flaky(times) {
    if (this.retries < times) this.retry({ countdown: 0.05, exc: new Error(`attempt ${this.retries}`) });
    return this.retries;
  },
  'node.progress': async function progress(steps) {
    for (let i = 1; i <= steps; i += 1) await this.updateState('PROGRESS', { current: i, total: steps });
    return steps;
  },
  'node.request': function request() {
    const { id, name, retries, rootId, parentId, groupId, eta, expires, deliveryInfo } = this;
    return { id, name, retries, rootId, parentId, groupId, eta, expires, deliveryInfo, lang: this.headers.lang || null };
  },
};

function registerAll(worker) {
  for (const [name, handler] of Object.entries(tasks)) worker.register(name, handler);
}

module.exports = { tasks, registerAll, ValidationError };
