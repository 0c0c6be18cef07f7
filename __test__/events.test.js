'use strict';
// task-sent events (Python's task_send_sent_event) from a Node client, as a real Celery event
// receiver (what Flower runs) captures them, over Redis and RabbitMQ.

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { createClient } = require('..');
const { ensureVenv, PYTHON_DIR } = require('./support/setup');
const { onExit, killNow } = require('./support/cleanup');
const { amqpUrl } = require('./support/services');
const { uniqueQueue, dropQueue, redisUrl } = require('./helpers');
const { runPython } = require('./support/worker');

/** Starts events.py; resolves once it listens, with a promise of the events it captured. */
async function captureEvents(broker, type, count) {
  const { python } = await ensureVenv();
  const child = spawn(python, [path.join(PYTHON_DIR, 'events.py'), type, String(count), '20'], {
    cwd: PYTHON_DIR,
    env: { ...process.env, PYTHONPATH: PYTHON_DIR, CELERY_BROKER_URL: broker, CELERY_RESULT_BACKEND: 'redis://127.0.0.1:1/0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const unregister = onExit(() => killNow(child.pid));
  let out = '';
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
  const exited = new Promise((resolve) => child.on('close', resolve)); // after its output is read
  await new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      if (out.startsWith('ready\n')) resolve();
    });
    exited.then(() => reject(new Error(`events.py ended before listening:\n${err}`)));
  });
  const events = exited.then(() => {
    unregister();
    return out.split('\n').slice(1).filter(Boolean).map((line) => JSON.parse(line));
  });
  return { events }; // wrapped: an async function would wait for a returned promise
}

describe('task-sent events', () => {
  for (const transport of ['redis', 'amqp']) {
    it(`over ${transport}: a client with sendSentEvent tells monitors of every task it sends`, async () => {
      const redis = `${await redisUrl()}/6`;
      const broker = transport === 'redis' ? redis : await amqpUrl();
      const queue = uniqueQueue(`events-${transport}`);
      const { events } = await captureEvents(broker, 'task-sent', 2);
      const client = createClient(broker, redis, queue, { sendSentEvent: true });
      const quiet = createClient(broker, redis, queue);
      // First, so that an event it sent would be the first captured: it must send none.
      await quiet.createTask('tasks.add').applyAsync([3, 4]).sent;
      const first = client.createTask('tasks.add').applyAsync([1, 2]);
      const second = client.createTask('tasks.echo').applyAsync(['x'], { k: 1 }, { countdown: 60 });
      await Promise.all([first.sent, second.sent]);
      const seen = await events;
      assert.deepEqual(seen.map((e) => e.uuid), [first.taskId, second.taskId]);
      const [one, two] = seen;
      assert.equal(one.type, 'task-sent');
      assert.deepEqual([one.name, one.args, one.kwargs, one.queue, one.routing_key, one.retries], ['tasks.add', '[1, 2]', '{}', queue, queue, 0]);
      assert.equal(one.hostname, client.broker._native.origin);
      assert.equal(one.root_id, first.taskId);
      assert.ok(Date.parse(two.eta) > Date.now() + 50_000, two.eta);
      await Promise.all([client.disconnect(), quiet.disconnect()]);
      if (transport === 'redis') await dropQueue(broker, queue);
      else await runPython('amqp_admin.py', [broker, 'delete', queue]);
    });
  }
});
