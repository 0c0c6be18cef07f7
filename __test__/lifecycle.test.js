'use strict';
// Process lifetime and connection loss: in-flight publishes keep the process alive until Redis
// has them, disconnect() lets it exit, and a Redis restart loses nothing reported as sent.

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const path = require('node:path');
const { once } = require('node:events');
const { randomUUID } = require('node:crypto');
const { uniqueQueue, dropQueue, redisUrl, redisCommand, restartableRedis } = require('./helpers');

const PACKAGE = path.resolve(__dirname, '..');

/** Runs a script in a child Node process; resolves { code, elapsed, stdout, stderr }. */
async function runChild(source, env) {
  const started = Date.now();
  const child = spawn(process.execPath, ['-e', source], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const [code] = await once(child, 'exit');
  return { code, elapsed: Date.now() - started, stdout, stderr };
}

const SENDER = `
  const { createClient } = require(${JSON.stringify(PACKAGE)});
  const client = createClient(process.env.URL, process.env.URL, process.env.QUEUE);
  const task = client.createTask('tasks.add');
  for (let i = 0; i < 1000; i++) task.delay(i, i);
  if (process.env.DISCONNECT) client.disconnect().then((r) => console.log('disconnected', r));
`;

describe('process lifetime', () => {
  for (const disconnect of [true, false]) {
    it(`a child that sends 1,000 tasks${disconnect ? ' and disconnects' : ' and just returns'} exits within 5 s with all of them queued`, async () => {
      const url = `${await redisUrl()}/0`;
      const queue = uniqueQueue('exit');
      const { code, elapsed, stdout, stderr } = await runChild(SENDER, { URL: url, QUEUE: queue, DISCONNECT: disconnect ? '1' : '' });
      assert.equal(code, 0, stderr);
      assert.ok(elapsed < 5000, `exited after ${elapsed} ms`);
      if (disconnect) assert.match(stdout, /disconnected OK/);
      assert.equal(await redisCommand(url, 'LLEN', queue), 1000);
      await dropQueue(url, queue);
    });
  }
});

describe('Redis restart', () => {
  it('reconnects by itself and loses no message it reported as sent', async () => {
    const redis = await restartableRedis();
    const queue = uniqueQueue('restart');
    const { createClient } = require('..');
    const client = createClient(redis.url, redis.url, queue);
    client.conf.CELERY_BROKER_OPTIONS = { connectTimeout: 15_000 };
    const task = client.createTask('tasks.add');
    const sent = [];
    const send = (n) => Array.from({ length: n }, (_, i) => task.delay(i, 0)).map((r) => r.sent.then(() => sent.push(r.taskId)));

    await Promise.all(send(300)); // connected and busy
    await redis.stop();
    const duringOutage = send(300); // queued while Redis is down
    await redis.start();
    await Promise.all(duringOutage);
    await Promise.all(send(300)); // and it keeps working afterwards

    await redis.stop(); // and again while idle
    await redis.start();
    await Promise.all(send(100));

    const queued = (await redisCommand(redis.url, 'LRANGE', queue, '0', '-1')).map((text) => JSON.parse(text).headers.id);
    const missing = sent.filter((id) => !queued.includes(id));
    assert.equal(sent.length, 1000);
    assert.deepEqual(missing, []);
    await client.disconnect();
    await redis.dispose();
  });

  it('keeps a waiting get() alive across a restart and delivers the result stored after it', async () => {
    const redis = await restartableRedis();
    const { createClient } = require('..');
    const client = createClient(redis.url, redis.url);
    const result = client.asyncResult(randomUUID());
    const waiting = result.get(30_000);
    assert.equal(await result.status(), null); // connected, and the wait is registered
    await redis.stop();
    await redis.start();
    const meta = JSON.stringify({ status: 'SUCCESS', result: 42, traceback: null, children: [], date_done: null, task_id: result.taskId });
    const key = `celery-task-meta-${result.taskId}`;
    await redisCommand(redis.url, 'SET', key, meta);
    await redisCommand(redis.url, 'PUBLISH', key, meta);
    assert.equal(await waiting, 42);
    await client.disconnect();
    await redis.dispose();
  });
});
