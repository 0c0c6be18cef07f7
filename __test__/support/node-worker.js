'use strict';
// A Node worker in its own process, for tests that kill or signal it:
//   node node-worker.js '<json: {broker, backend, queue, options}>'
// It prints "node-worker ready" once it consumes, then celery-node's log lines.

const { createWorker } = require('../..');
const { registerAll } = require('./node-tasks');

const { broker, backend, queue, options } = JSON.parse(process.argv[2]);
const worker = createWorker(broker, backend, queue, { handleSignals: true, ...options });
registerAll(worker);
worker.start();
worker.whenStarted().then(
  () => console.log('node-worker ready'),
  (error) => {
    console.error(error);
    process.exit(3);
  },
);
