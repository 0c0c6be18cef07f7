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
// result.states() is Python's result.get(on_message=...) as a loop: each state is pushed as the
// worker stores it (Redis pub/sub) or sends it (rpc:// reply queue); nothing is polled. With
// rpc://, only the client that sent the task can follow it. celery-node's amqp:// result backend
// cannot be watched (the loop throws ERR_CELERY_INVALID_OPTION).
//
// The same with a callback:
//   const stop = result.onProgress((meta) => draw(meta), (error) => console.error(error));
//   ... stop();

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
  try {
    const result = client.createTask('tasks.build_report').delay(process.argv[2] || '42');
    // states() does not report publish failures: make sure the broker has the message first.
    await result.sent;

    // The state stored now (if any), then every new one; the loop ends after SUCCESS, FAILURE
    // or REVOKED, which it yields too.
    for await (const meta of result.states()) {
      if (meta.status === 'PROGRESS' && meta.result && meta.result.total) {
        process.stdout.write(`\r${bar(meta.result)}`); // the `meta` dict given to update_state
      } else {
        process.stdout.write(`\r${meta.status}`.padEnd(50));
      }
    }

    // The ready state was seen: get() answers from it without asking the backend again, and
    // rejects with the task's exception on FAILURE / REVOKED.
    console.log(`\ndone: ${JSON.stringify(await result.get())}`);
  } catch (error) {
    console.error(`\nfailed: [${error.code}] ${error.exc_type || ''} ${error.exc_message || error.message}`);
    process.exitCode = 1;
  } finally {
    await client.disconnect();
  }
}

main();
