'use strict';
// A Node worker: JS functions run as Celery tasks, for Python (or Node) clients.
//
//   CELERY_BROKER_URL=redis://localhost:6379/0 node worker.js
//   CELERY_BROKER_URL=amqp://guest:guest@localhost:5672// node worker.js   # rpc:// results
//
// From Python, with the same broker and result backend:
//
//   app.send_task('node.thumbnail', args=['https://example.com/cat.png'], kwargs={'width': 128},
//                  queue='node').get(timeout=10)
//   -> {'url': 'https://example.com/cat.png', 'width': 128, 'attempt': 0}
//
// Handlers are called as celery-node calls them, fn(...args, kwargs); `this` is the task's
// context (Celery's self.request plus updateState, retry and an AbortSignal). Failures are
// stored as Python reads them: a thrown TypeError raises TypeError in the Python client.
// Ctrl-C (SIGINT) or SIGTERM stops gracefully: running tasks finish and are stored first.

const { createWorker } = require('celery-native');

const brokerUrl = process.env.CELERY_BROKER_URL || 'redis://localhost:6379/0';
const backendUrl = process.env.CELERY_RESULT_BACKEND || (brokerUrl.startsWith('amqp') ? 'rpc://' : brokerUrl);

const worker = createWorker(brokerUrl, backendUrl, 'node', {
  concurrency: 8, // at most 8 handlers at once (celery-node: unlimited)
  acksLate: true, // a crash mid-task leaves the message for another worker
  handleSignals: true,
});

worker.register('node.thumbnail', async function thumbnail(url, kwargs) {
  const width = (kwargs && kwargs.width) || 256;
  await this.updateState('PROGRESS', { step: 'download', url });
  let response;
  try {
    response = await fetch(url, { signal: this.signal }); // aborted at the soft time limit
  } catch (error) {
    // Network trouble: run again in 5 s, at most 3 times (then the error is stored).
    this.retry({ countdown: 5, exc: error, maxRetries: 3 });
  }
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
  await this.updateState('PROGRESS', { step: 'resize', url });
  return { url, width, attempt: this.retries };
});

worker.register('node.add', (a, b) => a + b);

worker.on('task-failed', (context, error) => console.error(`${context.name}[${context.id}]`, error.message));
worker.start();
worker.whenStarted().then(() => console.log(`consuming "node" on ${brokerUrl}; Ctrl-C stops`));
