'use strict';
// `npm run demo`: celery-native talking to a real Python Celery worker.
//
// It starts everything it needs (via the test helpers in __test__/support):
//   - the Python venv at __test__/.venv (built once from a pinned requirements file),
//   - Redis: the one at 127.0.0.1:6379 if it answers, otherwise a private redis-server,
//   - a Celery worker (__test__/python/tasks.py) on a fresh queue, Redis as broker and backend.
// Then it sends tasks from Node, prints what comes back, stops the worker and exits.

const crypto = require('node:crypto');
const { setTimeout: sleep } = require('node:timers/promises');

const { createClient } = require('celery-native'); // this checkout, via the package's own name
const { ensureVenv } = require('../__test__/support/setup');
const { redisUrl, redisCommand } = require('../__test__/support/services');
const { startWorker } = require('../__test__/support/worker');

const started = Date.now();
const elapsed = () => `${String(Date.now() - started).padStart(6)} ms`;
const log = (...parts) => console.log(elapsed(), ...parts);
const heading = (title) => console.log(`\n== ${title}`);
const ms = (since) => `${(performance.now() - since).toFixed(1)} ms`;

// A safety net: the demo must never hang. The timer does not keep the process alive.
setTimeout(() => {
  console.error('demo: still running after 120 s, giving up');
  process.exit(1);
}, 120_000).unref();

async function main() {
  heading('Setting up');
  await ensureVenv();
  log('Python venv ready (__test__/.venv, Celery 5.7)');
  const url = await redisUrl();
  log(`Redis: ${url}`);
  const queue = `celery-native-demo-${crypto.randomBytes(4).toString('hex')}`;
  const worker = await startWorker({ broker: url, backend: url, queues: [queue], concurrency: 4, loglevel: 'WARNING' });
  log(`Python Celery worker (pid ${worker.pid}) consuming queue "${queue}"`);

  // The same call a celery-node user writes; only the package name differs.
  const client = createClient(url, url, queue);
  client.on('error', (error) => log(`client 'error' event: [${error.code}] ${error.message}`));

  try {
    await client.isReady();
    log('client.isReady(): broker and backend answer');
    await addAndWait(client);
    await severalAtOnce(client);
    await pythonException(client);
    await timeout(client);
    await progress(client);
  } catch (error) {
    console.error('\ndemo failed:', error);
    console.error('\n--- worker output\n' + worker.output());
    process.exitCode = 1;
  } finally {
    heading('Shutting down');
    await worker.stop();
    log('worker stopped');
    await client.disconnect();
    log('client disconnected');
    // Leave nothing behind in a shared Redis: the demo queue's lists and its kombu bindings.
    const sep = '\x06\x16';
    await redisCommand(url, 'DEL', queue, ...[3, 6, 9].map((p) => `${queue}${sep}${p}`), `_kombu.binding.${queue}`, `_kombu.binding_permanent.${queue}`);
    log('demo queue removed from Redis; the process now exits by itself');
  }
}

async function addAndWait(client) {
  heading('tasks.add(2, 3): dispatch and await the result');
  const add = client.createTask('tasks.add');
  const t0 = performance.now();
  const result = add.applyAsync([2, 3]);
  log(`sent, task id ${result.taskId}`);
  await result.sent;
  log(`result.sent resolved: the message is on the broker (${ms(t0)})`);
  const value = await result.get(10_000);
  log(`result.get(10_000) resolved: ${JSON.stringify(value)} (${ms(t0)} after sending)`);
  log(`status() now: ${await result.status()}`);
}

async function severalAtOnce(client) {
  heading('Several tasks at once');
  const add = client.createTask('tasks.add');
  const echo = client.createTask('tasks.echo');
  const t0 = performance.now();
  const results = [];
  for (let i = 1; i <= 5; i++) results.push(add.delay(i, i * 10));
  results.push(echo.applyAsync(['hello', 42], { from: 'node' }));
  results.push(client.sendTask('tasks.echo', [], { via: 'sendTask' }));
  const values = await Promise.all(results.map((r) => r.get(10_000)));
  log(`${results.length} results in ${ms(t0)}:`);
  for (const value of values) console.log(`             ${JSON.stringify(value)}`);
}

async function pythonException(client) {
  heading('A Python exception arrives as a rejected get()');
  const result = client.createTask('tasks.fail').delay('card declined');
  try {
    await result.get(10_000);
    throw new Error('tasks.fail was expected to fail');
  } catch (error) {
    if (error.code !== 'ERR_CELERY_TASK_FAILED') throw error;
    log('get() rejected:');
    console.log(`             error.message     ${JSON.stringify(error.message)}`);
    console.log(`             error.code        ${error.code}`);
    console.log(`             error.exc_type    ${error.exc_type}`);
    console.log(`             error.exc_module  ${error.exc_module}`);
    console.log(`             error.exc_message ${JSON.stringify(error.exc_message)}`);
    console.log(`             error.taskId      ${error.taskId}`);
    log(`status() now: ${await result.status()}`);
  }
}

async function timeout(client) {
  heading('A get() timeout');
  const result = client.createTask('tasks.sleep').delay(2, 'late');
  const t0 = performance.now();
  try {
    await result.get(300);
    throw new Error('expected a timeout');
  } catch (error) {
    if (error.code !== 'ERR_CELERY_TIMEOUT') throw error;
    log(`get(300) rejected after ${ms(t0)}: message ${JSON.stringify(error.message)}, code ${error.code}`);
  }
  log(`waiting again without a limit: ${JSON.stringify(await result.get())} (${ms(t0)} after sending)`);
}

async function progress(client) {
  heading('tasks.progress: status() sees PROGRESS while get() waits');
  const steps = 5;
  const result = client.createTask('tasks.progress').delay(steps, 0.4);
  let settled = false;
  const done = result.get(30_000).finally(() => {
    settled = true;
  });
  let last = '';
  while (!settled) {
    const status = await result.status();
    const info = status === 'PROGRESS' ? await result.result() : null;
    const line =
      status === 'PROGRESS'
        ? `PROGRESS ${bar(info.current, info.total)} ${info.current}/${info.total}`
        : status === null
          ? 'null (nothing stored yet: the task is pending)'
          : status;
    if (line !== last) {
      log(`status(): ${line}`);
      last = line;
    }
    await sleep(50);
  }
  log(`get() resolved: ${JSON.stringify(await done)}; status() now: ${await result.status()}`);
}

function bar(current, total, width = 20) {
  const filled = Math.round((current / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

main().catch((error) => {
  console.error('demo could not start:', error);
  process.exitCode = 1;
});
