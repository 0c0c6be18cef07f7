'use strict';
// The Node worker against real parts: a real Python Celery 5.7 client (py_client.py) sends,
// the Node worker runs JS handlers, Python's AsyncResult.get() reads the result or raises; over
// Redis and over RabbitMQ, with Redis and rpc:// results. Plus Node client → Node worker.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { randomUUID } = require('node:crypto');
const { createClient, createWorker } = require('..');
const { runPython } = require('./support/worker');
const { registerAll } = require('./support/node-tasks');
const { amqpUrl } = require('./support/services');
const { uniqueQueue, dropQueue, recordTaskIds, dropResults, redisUrl, redisCommand } = require('./helpers');

const SETUPS = [
  { label: 'Redis broker, Redis results', broker: (redis) => redis, backend: (redis) => redis },
  { label: 'RabbitMQ broker, rpc:// results', broker: (redis, amqp) => amqp, backend: () => 'rpc://' },
  { label: 'RabbitMQ broker, Redis results', broker: (redis, amqp) => amqp, backend: (redis) => redis },
];

/** Sends `calls` from a Python client and returns one parsed line per call. */
async function fromPython({ broker, backend, queue }, calls, { timeout = 20, protocol = 2 } = {}) {
  const out = await runPython('py_client.py', [JSON.stringify({ queue, timeout, calls })], {
    CELERY_BROKER_URL: broker,
    CELERY_RESULT_BACKEND: backend,
    CELERY_TASK_PROTOCOL: String(protocol),
  });
  return out.trim().split('\n').map((line) => JSON.parse(line));
}

for (const setup of SETUPS) {
  describe(`Python client → Node worker (${setup.label})`, () => {
    const where = {};
    let redis;
    let worker;
    let client;
    let taskIds;

    before(async () => {
      redis = `${await redisUrl()}/6`;
      where.broker = setup.broker(redis, await amqpUrl());
      where.backend = setup.backend(redis);
      where.queue = uniqueQueue('node-worker');
      worker = createWorker(where.broker, where.backend, where.queue);
      registerAll(worker);
      worker.start();
      await worker.whenStarted();
      client = createClient(where.broker, where.backend, where.queue);
      taskIds = recordTaskIds(client);
    });

    after(async () => {
      await client.disconnect();
      await worker.stop();
      if (where.broker.startsWith('redis')) await dropQueue(where.broker, where.queue);
      else await runPython('amqp_admin.py', [where.broker, 'delete', where.queue]);
      if (where.backend.startsWith('redis')) await dropResults(redis, taskIds);
    });

    it('returns values, and failures raise the matching Python exception', async () => {
      const [added, failed, invalid, unknown] = await fromPython(where, [
        { name: 'node.add', args: [2, 3] },
        { name: 'node.fail', args: ['boom'] },
        { name: 'node.invalid', args: ['bad input'] },
        { name: 'node.nope', args: [] },
      ]);
      assert.equal(added.status, 'SUCCESS');
      assert.equal(added.value, 5);
      assert.deepEqual([failed.status, failed.excType, failed.excModule, failed.excArgs], ['FAILURE', 'TypeError', 'builtins', ['boom']]);
      assert.deepEqual([invalid.excType, invalid.excArgs], ['ValidationError', ['bad input']]);
      assert.deepEqual([unknown.status, unknown.excType, unknown.excModule], ['FAILURE', 'NotRegistered', 'celery.exceptions']);
    });

    it('consumes every priority (on Redis, every one of kombu\'s priority lists)', async () => {
      const lines = await fromPython(where, [0, 3, 5, 9].map((priority) => ({ name: 'node.add', args: [priority, 1], options: { priority } })));
      assert.deepEqual(lines.map((line) => line.value), [1, 4, 6, 10]);
    });

    it('reads protocol 1 messages too', async () => {
      const [added, echoed] = await fromPython(where, [
        { name: 'node.add', args: [2, 3], options: { countdown: 0.2 } },
        { name: 'node.echo', args: [1], kwargs: { k: 'v' } },
      ], { protocol: 1 });
      assert.equal(added.value, 5);
      assert.deepEqual(echoed.value, { args: [1], kwargs: { k: 'v' } });
    });

    it('hands the task its request: id, retries, root and parent ids, delivery info', async () => {
      const id = randomUUID();
      const [line] = await fromPython(where, [{ name: 'node.request', options: { task_id: id, retries: 2 } }]);
      assert.equal(line.status, 'SUCCESS');
      assert.deepEqual(line.value, {
        id,
        name: 'node.request',
        retries: 2,
        rootId: id,
        parentId: null,
        groupId: null,
        eta: null,
        expires: null,
        deliveryInfo: { routingKey: where.queue, redelivered: false },
        lang: 'py',
      });
    });

    it('holds a countdown task until it is due, without holding up the others', async () => {
      const finished = [];
      const record = (context) => finished.push(context.id);
      worker.on('task-succeeded', record);
      const [late, early] = await fromPython(where, [
        { name: 'node.add', args: [1, 1], options: { countdown: 1.5 } },
        { name: 'node.add', args: [2, 2] },
      ]);
      worker.off('task-succeeded', record);
      assert.equal(late.value, 2);
      assert.ok(late.doneAt - late.sentAt >= 1.5, `ran ${late.doneAt - late.sentAt}s after sending`);
      assert.equal(early.value, 4);
      assert.deepEqual(finished, [early.id, late.id], 'the task sent second, without countdown, ran first');
    });

    it('stores an expired task as REVOKED with TaskRevokedError', async () => {
      const past = new Date(Date.now() - 60_000).toISOString();
      const [line] = await fromPython(where, [{ name: 'node.add', args: [1, 2], options: { expires: past } }]);
      assert.deepEqual([line.status, line.excType, line.excArgs], ['REVOKED', 'TaskRevokedError', ['expired']]);
    });

    it('retries a task that asks for it, with retries + 1, until it succeeds', async () => {
      const [line] = await fromPython(where, [{ name: 'node.flaky', args: [2] }]);
      assert.equal(line.status, 'SUCCESS');
      assert.equal(line.value, 2);
    });

    it('runs a chain of three, each task getting the previous result and its parent id', async () => {
      const [line] = await fromPython(where, [
        {
          chain: [
            { name: 'node.add', args: [2, 2] },
            { name: 'node.mul', args: [10] },
            { name: 'node.add', args: [1] },
          ],
        },
      ]);
      assert.equal(line.status, 'SUCCESS');
      assert.equal(line.value, 41);
      assert.ok(line.parentId, 'the last task knows its parent');
    });

    it('ends a handler that never settles at its time limit, as TimeLimitExceeded', async () => {
      const [line] = await fromPython(where, [{ name: 'node.hang', options: { time_limit: 0.3 } }]);
      // Stored as celery.exceptions.TimeLimitExceeded, which Python defines in billiard.
      assert.deepEqual([line.status, line.excType, line.excModule, line.excArgs], ['FAILURE', 'TimeLimitExceeded', 'billiard.exceptions', ['0.3']]);
    });

    it('pushes every progress state to a waiting client, then the result', async () => {
      const result = client.createTask('node.progress').applyAsync([3]);
      const seen = [];
      for await (const state of result.states()) seen.push(state.status === 'PROGRESS' ? state.result.current : state.status);
      assert.deepEqual(seen.filter((s) => s !== 'PENDING'), [1, 2, 3, 'SUCCESS']);
      assert.equal(await result.get(), 3);
    });

    it('discards a countdown task revoked before it is due, as REVOKED', async () => {
      // Revoked tasks are discarded when due, as in Celery; the countdown leaves the broadcast
      // time to arrive even on a busy machine.
      const result = client.createTask('node.add').applyAsync([1, 1], {}, { countdown: 3 });
      await result.sent;
      await result.revoke();
      const error = await result.get(10_000).then(() => null, (e) => e);
      assert.equal(error.message, 'REVOKED');
      assert.deepEqual([error.exc_type, error.exc_message], ['TaskRevokedError', ['revoked']]);
    });

    it('ends a running task revoked with terminate, and tells the handler through its signal', async () => {
      const result = client.createTask('node.hang').applyAsync([]);
      const context = await new Promise((resolve) => {
        const received = (ctx) => ctx.id === result.taskId && (worker.off('task-received', received), resolve(ctx));
        worker.on('task-received', received);
      });
      await result.revoke({ terminate: true });
      const error = await result.get(10_000).then(() => null, (e) => e);
      assert.deepEqual([error.message, error.exc_message], ['REVOKED', ['terminated']]);
      assert.equal(context.signal.aborted, true);
      assert.equal(context.signal.reason, 'revoked');
    });

    if (setup.backend('redis://x') !== 'rpc://') {
      it('sends link callbacks with the result, and errbacks with the failed task id', async () => {
        const callbackId = randomUUID();
        const errbackId = randomUUID();
        const [ok, failed] = await fromPython(where, [
          { name: 'node.add', args: [1, 1], options: { link: { name: 'node.mul', args: [3], options: { task_id: callbackId } } } },
          { name: 'node.fail', args: ['x'], options: { link_error: { name: 'node.echo', options: { task_id: errbackId } } } },
        ]);
        assert.equal(ok.value, 2);
        assert.equal(failed.excType, 'TypeError');
        assert.equal(await client.asyncResult(callbackId).get(10_000), 6);
        assert.deepEqual(await client.asyncResult(errbackId).get(10_000), { args: [failed.id], kwargs: {} });
      });
    }

    it('keeps consuming after an unknown task and malformed messages', async () => {
      const badId = randomUUID();
      if (where.broker.startsWith('redis')) {
        await redisCommand(where.broker, 'LPUSH', where.queue, 'this is not json');
        const pickled = {
          body: Buffer.from('\x80\x04K\x01.').toString('base64'),
          'content-type': 'application/x-python-serialize',
          'content-encoding': 'binary',
          headers: { task: 'node.add', id: badId },
          properties: { body_encoding: 'base64', delivery_tag: randomUUID(), delivery_info: { exchange: '', routing_key: where.queue } },
        };
        await redisCommand(where.broker, 'LPUSH', where.queue, JSON.stringify(pickled));
        await redisCommand(where.broker, 'LPUSH', where.queue, JSON.stringify({ ...pickled, 'content-type': 'application/json', body: Buffer.from('{"a":').toString('base64') }));
      } else {
        await runPython('amqp_admin.py', [where.broker, 'publish', where.queue, 'application/json', 'this is not json']);
        await runPython('amqp_admin.py', [where.broker, 'publish', where.queue, 'application/x-python-serialize', 'pickle', JSON.stringify({ task: 'node.add', id: badId })]);
      }
      const [unknown, next] = await fromPython(where, [{ name: 'node.unknown' }, { name: 'node.add', args: [20, 22] }]);
      assert.equal(unknown.excType, 'NotRegistered');
      assert.equal(next.value, 42);
      if (where.backend.startsWith('redis')) {
        const stored = JSON.parse(await redisCommand(redis, 'GET', `celery-task-meta-${badId}`));
        assert.equal(stored.status, 'FAILURE');
        assert.equal(stored.result.exc_type, 'DecodeError');
        await redisCommand(redis, 'DEL', `celery-task-meta-${badId}`);
      }
    });
  });
}

describe('Node client → Node worker', () => {
  let url;
  let queue;
  let worker;
  let client;

  before(async () => {
    url = `${await redisUrl()}/6`;
    queue = uniqueQueue('node-to-node');
  });

  after(async () => {
    await dropQueue(url, queue);
  });

  it("runs celery-node's README examples", async () => {
    // celery-node's README, with the URLs and queue of this test.
    worker = createWorker(url, url, queue);
    worker.register('tasks.add', (a, b) => a + b);
    worker.start();

    client = createClient(url, url, queue);
    const task = client.createTask('tasks.add');
    const result = task.applyAsync([1, 2]);
    const data = await result.get();
    assert.equal(data, 3);

    const delayed = await client.createTask('tasks.add').delay(1, 2).get();
    assert.equal(delayed, 3);
    await client.disconnect();
    await worker.whenCurrentJobsFinished();
    await worker.disconnect();
    await dropResults(url, [result.taskId]);
  });

  it("keeps celery-node's shape: handlers, activeTasks, register errors, kwargs last", async () => {
    worker = createWorker(url, url, queue);
    assert.throws(() => worker.register('x', null), /Undefined handler/);
    worker.register('shape.kwargs', (...all) => all);
    assert.throws(() => worker.register('shape.kwargs', () => 1), /Handler is already set/);
    assert.equal(typeof worker.handlers['shape.kwargs'], 'function');
    assert.ok(worker.activeTasks instanceof Set);
    worker.start();
    await worker.whenStarted();
    // Registered after start: looked up per message.
    worker.register('shape.late', () => 'late');
    client = createClient(url, url, queue);
    const ids = recordTaskIds(client);
    assert.deepEqual(await client.createTask('shape.kwargs').applyAsync([1], { k: 2 }).get(), [1, { k: 2 }]);
    assert.deepEqual(await client.createTask('shape.kwargs').applyAsync([]).get(), [{}]);
    assert.deepEqual(await client.sendTask('shape.kwargs', [1]).get(), [1, null]);
    assert.equal(await client.createTask('shape.late').applyAsync([]).get(), 'late');
    await client.disconnect();
    await worker.disconnect();
    await dropResults(url, ids);
  });

  it("writes celery-node's amqp:// results, with celery-node's defaults for both URLs' kinds", async () => {
    const broker = await amqpUrl();
    const amqpQueue = uniqueQueue('node-amqp-backend');
    worker = createWorker(broker, broker, amqpQueue);
    registerAll(worker);
    worker.start();
    await worker.whenStarted();
    client = createClient(broker, broker, amqpQueue);
    assert.equal(await client.createTask('node.add').applyAsync([20, 22]).get(10_000), 42);
    const error = await client.createTask('node.fail').applyAsync(['nope']).get(10_000).then(() => null, (e) => e);
    assert.deepEqual([error.message, error.exc_type, error.exc_message], ['FAILURE', 'TypeError', ['nope']]);
    await client.disconnect();
    await worker.stop();
    await runPython('amqp_admin.py', [broker, 'delete', amqpQueue]);
  });

  it('stores STARTED with trackStarted, and nothing with ignoreResult', async () => {
    worker = createWorker(url, url, queue, { trackStarted: true });
    registerAll(worker);
    worker.start();
    await worker.whenStarted();
    client = createClient(url, url, queue);
    const ids = recordTaskIds(client);
    const result = client.createTask('node.sleep').applyAsync([50]);
    const seen = [];
    for await (const state of result.states()) seen.push(state.status);
    assert.deepEqual(seen.filter((s) => s !== 'PENDING'), ['STARTED', 'SUCCESS']);
    assert.deepEqual(Object.keys((await client.backend.getTaskMeta(result.taskId)) || {}).slice(0, 5), ['status', 'result', 'traceback', 'children', 'date_done']);

    const ignored = client.createTask('node.add').applyAsync([1, 1], {}, { ignoreResult: true });
    const done = new Promise((resolve) => {
      const onSucceeded = (ctx) => {
        if (ctx.id !== ignored.taskId) return;
        worker.off('task-succeeded', onSucceeded);
        resolve();
      };
      worker.on('task-succeeded', onSucceeded);
    });
    await done;
    await worker.stop(); // every store has happened once stop() resolved
    assert.equal(await ignored.status(), null);
    await client.disconnect();
    await dropResults(url, ids);
  });

  it('refuses bad options with a typed error from whenStarted(), and start() only logs it', async () => {
    for (const options of [{ concurrency: -1 }, { prefetch: 1.5 }, { visibilityTimeout: 'soon' }, { queues: 'q' }]) {
      const bad = createWorker(url, url, queue, options);
      await assert.rejects(bad.whenStarted(), { code: 'ERR_CELERY_INVALID_OPTION' });
      const logged = [];
      const original = console.error;
      console.error = (error) => logged.push(error);
      try {
        assert.equal(await bad.start(), undefined);
      } finally {
        console.error = original;
      }
      assert.equal(logged.at(-1).code, 'ERR_CELERY_INVALID_OPTION');
      await bad.disconnect();
    }
  });

  it('runs at most `concurrency` handlers at once, and holds the rest', async () => {
    worker = createWorker(url, url, queue, { concurrency: 2 });
    let running = 0;
    let most = 0;
    worker.register('limit.sleep', async () => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 100));
      running -= 1;
      return most;
    });
    worker.start();
    await worker.whenStarted();
    client = createClient(url, url, queue);
    const ids = recordTaskIds(client);
    const results = Array.from({ length: 6 }, () => client.createTask('limit.sleep').applyAsync([]));
    await Promise.all(results.map((r) => r.get()));
    assert.equal(most, 2);
    await client.disconnect();
    await worker.stop();
    await dropResults(url, ids);
  });
});

for (const transport of ['redis', 'amqp']) {
  describe(`Node worker prefetch window (${transport})`, () => {
    it('tasks held for their ETA do not fill it: a task due now still runs at once', async () => {
      const redis = `${await redisUrl()}/6`;
      const broker = transport === 'redis' ? redis : await amqpUrl();
      const queue = uniqueQueue('eta-window');
      const worker = createWorker(broker, redis, queue, { concurrency: 1, prefetch: 2 });
      registerAll(worker);
      worker.start();
      await worker.whenStarted();
      const client = createClient(broker, redis, queue);
      const ids = recordTaskIds(client);
      const finished = [];
      worker.on('task-succeeded', (context) => finished.push(context.id));
      const later = Array.from({ length: 4 }, (_, i) => client.createTask('node.add').applyAsync([i, 0], {}, { countdown: 2 }));
      await Promise.all(later.map((r) => r.sent));
      const now = client.createTask('node.add').applyAsync([1, 1]);
      assert.equal(await now.get(10_000), 2);
      assert.deepEqual(await Promise.all(later.map((r) => r.get(10_000))), [0, 1, 2, 3]);
      assert.equal(finished[0], now.taskId, 'the task due now ran before the four held for their ETA');
      await client.disconnect();
      await worker.stop();
      if (transport === 'redis') await dropQueue(redis, queue);
      else await runPython('amqp_admin.py', [broker, 'delete', queue]);
      await dropResults(redis, ids);
    });
  });
}
