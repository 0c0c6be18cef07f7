'use strict';
// Dispatch and await from an HTTP handler.
//
//   POST /orders/<id>/process  sends tasks.process_order(orderId) to a Python Celery worker and
//   answers with the task's return value: 504 if it takes longer than 30 s, 502 if it fails.
//
// Plain node:http, so it runs without dependencies. With Express the handler is the same:
//   app.post('/orders/:id/process', async (req, res) => { ...the try/catch below... });
//
// Run:
//   CELERY_BROKER_URL=redis://localhost:6379/0 CELERY_RESULT_BACKEND=redis://localhost:6379/1 \
//     node express-dispatch.js
//   CELERY_BROKER_URL=amqp://guest:guest@localhost:5672// node express-dispatch.js   # RabbitMQ, rpc:// results
//   curl -X POST localhost:3000/orders/42/process

const http = require('node:http');
const { createClient } = require('celery-native');

const brokerUrl = process.env.CELERY_BROKER_URL || 'redis://localhost:6379/0';
// Python workers write no amqp:// results (that is celery-node's own backend): with RabbitMQ,
// read their results with rpc://. The workers must use the same result backend.
const backendUrl = process.env.CELERY_RESULT_BACKEND || (/^(amqps?|pyamqp):/i.test(brokerUrl) ? 'rpc://' : brokerUrl);

// One client for the whole process; it connects on first use.
const celery = createClient(brokerUrl, backendUrl);
const processOrder = celery.createTask('tasks.process_order');
celery.on('error', (error) => console.error(`celery: [${error.code}] ${error.message}`));

async function handleProcessOrder(orderId, res) {
  const result = processOrder.applyAsync([orderId]); // pass the id, not the order
  try {
    const value = await result.get(30_000);
    reply(res, 200, { orderId, taskId: result.taskId, result: value });
  } catch (error) {
    switch (error.code) {
      case 'ERR_CELERY_TIMEOUT': // still queued or running; the task itself is not cancelled
        return reply(res, 504, { error: 'order processing timed out', taskId: result.taskId });
      case 'ERR_CELERY_TASK_FAILED': // the Python task raised: error.exc_type, error.exc_message
      case 'ERR_CELERY_TASK_REVOKED':
        console.error(`task ${result.taskId} failed: ${error.exc_type}: ${error.exc_message}`);
        return reply(res, 502, { error: 'order processing failed', type: error.exc_type, taskId: result.taskId });
      default: // broker or backend unreachable, ...
        console.error(error);
        return reply(res, 503, { error: 'task queue unavailable' });
    }
  }
}

function reply(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const server = http.createServer((req, res) => {
  const match = /^\/orders\/([\w-]+)\/process$/.exec(req.url);
  if (req.method !== 'POST' || !match) return reply(res, 404, { error: 'not found' });
  handleProcessOrder(match[1], res);
});

server.listen(Number(process.env.PORT) || 3000, () => console.log(`listening on :${server.address().port}`));

process.once('SIGTERM', () => {
  server.close(() => celery.disconnect()); // disconnect() flushes messages not yet sent
});
