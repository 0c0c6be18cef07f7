'use strict';
// Fire and forget, safely: send thousands of small tasks and know they reached the broker
// before the process exits.
//
// applyAsync() returns at once; `result.sent` resolves when the message is on the broker (on
// RabbitMQ: when RabbitMQ has confirmed it) and rejects if it could not be written (the error has
// a `code`, e.g. ERR_CELERY_BROKER_UNREACHABLE, or ERR_CELERY_UNROUTABLE on RabbitMQ).
//
//   CELERY_BROKER_URL=redis://localhost:6379/0 node fire-and-forget.js
//   CELERY_BROKER_URL=amqp://guest:guest@localhost:5672// node fire-and-forget.js

const { createClient } = require('celery-native');

const brokerUrl = process.env.CELERY_BROKER_URL || 'redis://localhost:6379/0';
// A backend URL is needed even when no result is read; it must be a supported one. No result is
// read here, so the backend never connects.
const backendUrl = process.env.CELERY_RESULT_BACKEND || brokerUrl;

async function main() {
  const client = createClient(brokerUrl, backendUrl);
  const sendWebhook = client.createTask('tasks.send_webhook');
  const started = Date.now();
  try {
    const results = [];
    for (let i = 0; i < 5000; i++) {
      // ignoreResult: the worker stores no result for these (Celery's ignore_result header).
      results.push(sendWebhook.applyAsync([`event-${i}`], undefined, { ignoreResult: true }));
    }
    await Promise.all(results.map((r) => r.sent));
    console.log(`${results.length} tasks on the broker in ${Date.now() - started} ms`);
  } catch (error) {
    console.error(`sending failed: [${error.code}] ${error.message}`);
    process.exitCode = 1;
  } finally {
    await client.disconnect();
  }
}

main();
