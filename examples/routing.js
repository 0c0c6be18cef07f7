'use strict';
// Route work with per-call options, the names of Python's apply_async in camelCase:
//   applyAsync(args, kwargs, options)  and  sendTask(name, args, kwargs, taskId, options)
//
//   queue      queue name (default: the client's queue, conf.CELERY_QUEUE, 'celery')
//   priority   integer 0-255. On Redis, as with Python Celery, lower goes first: 0 (also the
//              default) is taken before 3-5, 6-8 and 9 (kombu's sub-queues; above 9 counts as 9).
//              On RabbitMQ, higher goes first, and only in queues declared with x-max-priority:
//              CELERY_BROKER_OPTIONS = { queueArguments: { 'x-max-priority': 10 } }, the same
//              arguments the workers declare (or { passive: true } to leave the queues to them)
//   countdown  seconds from now before a worker may run the task
//   eta        a Date or ISO 8601 string: run no earlier than this
//   expires    seconds from now (a number) or a Date / ISO 8601 string: after it the worker
//              discards the task (it finishes as REVOKED) instead of running it
//   also: timeLimit, softTimeLimit (seconds), ignoreResult, shadow, retries, headers
//
// Workers consume the queues, e.g.:
//   celery -A tasks worker -Q cpu-intensive
//   celery -A tasks worker -Q high-priority,celery
//
//   CELERY_BROKER_URL=redis://localhost:6379/0 node routing.js
//   CELERY_BROKER_URL=amqp://guest:guest@localhost:5672// node routing.js
//
// On RabbitMQ the client declares each queue it sends to (as a Celery worker would) unless
// CELERY_BROKER_OPTIONS.passive is set.

const { createClient } = require('celery-native');

const brokerUrl = process.env.CELERY_BROKER_URL || 'redis://localhost:6379/0';
const backendUrl = process.env.CELERY_RESULT_BACKEND || brokerUrl;

async function main() {
  const client = createClient(brokerUrl, backendUrl);
  const results = [
    // CPU-heavy work goes to its own queue and workers.
    client.createTask('tasks.resize_image').applyAsync(['img-123'], { width: 640 }, { queue: 'cpu-intensive' }),

    // Urgent work gets its own queue (and workers that are never busy with bulk jobs).
    client.createTask('tasks.send_sms').applyAsync(['user-7'], undefined, { queue: 'high-priority' }),

    // Bulk work: on Redis, anything with a lower priority number in the same queue overtakes it.
    // (On RabbitMQ, 9 is a high priority in a queue with x-max-priority, and ignored otherwise.)
    client.createTask('tasks.rebuild_index').applyAsync([], undefined, { priority: 9 }),

    // Not before 60 s from now.
    client.createTask('tasks.send_reminder').applyAsync(['user-7'], undefined, { countdown: 60 }),

    // Useless after 5 minutes: a worker that gets to it later drops it.
    client.createTask('tasks.refresh_quote').applyAsync(['EURUSD'], undefined, { expires: 300 }),

    // Any option with sendTask, plus a task id of your own.
    client.sendTask('tasks.close_day', ['2025-01-31'], {}, `close-day-${Date.now()}`, {
      queue: 'cpu-intensive',
      eta: new Date(Date.now() + 10 * 60_000),
      expires: new Date(Date.now() + 60 * 60_000),
    }),
  ];
  try {
    await Promise.all(results.map((r) => r.sent)); // all on the broker
    for (const r of results) console.log(`sent ${r.taskId}`);
  } finally {
    await client.disconnect();
  }
}

main().catch((error) => {
  console.error(`[${error.code}] ${error.message}`);
  process.exitCode = 1;
});
