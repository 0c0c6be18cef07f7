'use strict';
// Track progress: a long Python task reports PROGRESS states; Node shows a text progress bar
// until the task succeeds or fails.
//
// The Python side (any task that calls update_state):
//
//   @app.task(name='tasks.build_report', bind=True)
//   def build_report(self, report_id):
//       for i in range(total):
//           ...
//           self.update_state(state='PROGRESS', meta={'current': i + 1, 'total': total})
//       return {'report_id': report_id, 'url': ...}
//
//   CELERY_BROKER_URL=redis://localhost:6379/0 node progress.js 42
//   CELERY_BROKER_URL=amqp://guest:guest@localhost:5672// node progress.js 42   # rpc:// results
//
// With rpc:// results, PROGRESS states arrive as messages on this client's reply queue, so
// status() sees them too; only the client that sent the task can follow it.

const { setTimeout: sleep } = require('node:timers/promises');
const { createClient } = require('celery-native');

const brokerUrl = process.env.CELERY_BROKER_URL || 'redis://localhost:6379/0';
// Python workers write no amqp:// results (that is celery-node's own backend): with RabbitMQ,
// read their results with rpc://. The workers must use the same result backend.
const backendUrl = process.env.CELERY_RESULT_BACKEND || (/^(amqps?|pyamqp):/i.test(brokerUrl) ? 'rpc://' : brokerUrl);

function bar({ current, total }, width = 30) {
  const filled = Math.min(width, Math.round((current / total) * width));
  return `[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${current}/${total}`;
}

async function main() {
  const client = createClient(brokerUrl, backendUrl);
  const result = client.createTask('tasks.build_report').delay(process.argv[2] || '42');

  // get() waits for SUCCESS/FAILURE; PROGRESS does not end it. Meanwhile poll the state.
  let done = false;
  const outcome = result.get(10 * 60_000).finally(() => (done = true));
  outcome.catch(() => {}); // handled below; avoids an unhandled rejection while we poll

  while (!done) {
    const status = await result.status(); // null until the worker stores something
    if (status === 'PROGRESS') {
      const meta = await result.result(); // the `meta` dict given to update_state
      if (meta && meta.total) process.stdout.write(`\r${bar(meta)}`);
    } else {
      process.stdout.write(`\r${status || 'PENDING'}`.padEnd(50));
    }
    await sleep(250);
  }

  try {
    console.log(`\ndone: ${JSON.stringify(await outcome)}`);
  } catch (error) {
    console.error(`\nfailed: [${error.code}] ${error.exc_type || ''} ${error.exc_message || error.message}`);
    process.exitCode = 1;
  } finally {
    await client.disconnect();
  }
}

main();
