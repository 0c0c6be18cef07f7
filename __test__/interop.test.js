'use strict';
// Node client → real Python Celery 5.7 worker (Redis broker and backend) → result in Node,
// with protocol 2 and protocol 1.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { randomUUID } = require('node:crypto');
const { createClient } = require('..');
const { startWorker } = require('./support/worker');
const { uniqueQueue, dropQueue, recordTaskIds, dropResults, eventually, redisUrl, redisCommand } = require('./helpers');

for (const protocol of [2, 1]) {
  describe(`Node client → Python worker, protocol ${protocol}`, () => {
    let url;
    let queue;
    let worker;
    let client;
    let taskIds;

    before(async () => {
      url = `${await redisUrl()}/0`;
      queue = uniqueQueue(`interop-p${protocol}`);
      worker = await startWorker({ broker: url, backend: url, queues: [queue], concurrency: 8 });
      client = createClient(url, url, queue);
      client.conf.TASK_PROTOCOL = protocol;
      taskIds = recordTaskIds(client);
    });

    after(async () => {
      await client.disconnect();
      await worker.stop();
      await dropQueue(url, queue);
      await dropResults(url, taskIds);
    });

    it('runs a task and returns its result', async () => {
      const result = client.createTask('tasks.add').applyAsync([2, 3]);
      assert.equal(await result.get(20_000), 5);
      assert.equal(await result.status(), 'SUCCESS');
    });

    it('keeps args and kwargs intact: unicode, emoji, nesting, floats, null, 1 MB', async () => {
      const big = 'x'.repeat(1024 * 1024);
      const args = ['héllo ✓ 🚀', { deep: [1, 2.5, null, true, { 'k"ey': "it's" }] }, -0.125, null, big];
      const kwargs = { emoji: '🐍🦀', nested: { list: [[], {}, [1e-7, 1.5e300]] }, nothing: null };
      const echoed = await client.createTask('tasks.echo').applyAsync(args, kwargs).get(30_000);
      assert.deepEqual(echoed, { args, kwargs });
    });

    it('runs tasks whose body is zlib-compressed, as compression="zlib" sends them', async () => {
      const args = ['x'.repeat(10_000), { nested: [1, 2, 3] }];
      for (const compression of ['zlib', 'gzip']) {
        const echoed = await client.createTask('tasks.echo').applyAsync(args, {}, { compression }).get(20_000);
        assert.deepEqual(echoed, { args, kwargs: {} });
      }
      assert.throws(() => client.createTask('tasks.echo').applyAsync([], {}, { compression: 'lzma' }), { code: 'ERR_CELERY_INVALID_OPTION' });
    });

    it('sends Date arguments as Python datetimes and BigInt as integers; decodes them back on request', async () => {
      const when = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 123));
      const big = 2n ** 62n;
      const raw = await client.createTask('tasks.echo').applyAsync([when, big]).get(20_000);
      // Python got a datetime (kombu wrote it back as one) and an int it could add to.
      assert.deepEqual(raw.args[0], { __type__: 'datetime', __value__: '2024-01-02T03:04:05.123000+00:00' });
      assert.equal(await client.createTask('tasks.add').applyAsync([big, big]).get(20_000), 2 ** 63);
      const typed = createClient(url, url, queue, { decodeTypes: true, bigInt: true });
      typed.conf.TASK_PROTOCOL = protocol;
      const sum = typed.createTask('tasks.add').applyAsync([big, big]);
      assert.equal(await sum.get(20_000), 2n ** 63n);
      const echoed = typed.createTask('tasks.echo').applyAsync([when]);
      const [back] = (await echoed.get(20_000)).args;
      assert.ok(back instanceof Date && back.getTime() === when.getTime());
      const asText = createClient(url, url, queue, { dates: 'string' });
      const text = asText.createTask('tasks.echo').applyAsync([when]);
      assert.deepEqual((await text.get(20_000)).args, [when.toISOString()]);
      await Promise.all([typed.disconnect(), asText.disconnect()]);
      await dropResults(url, [sum.taskId, echoed.taskId, text.taskId]);
    });

    it('rejects with the Python exception', async () => {
      const error = await client.createTask('tasks.fail').delay('boom').get(20_000).then(
        () => assert.fail('get() should reject'),
        (e) => e,
      );
      assert.equal(error.message, 'FAILURE');
      assert.equal(error.code, 'ERR_CELERY_TASK_FAILED');
      assert.equal(error.exc_type, 'MyError');
      assert.deepEqual(error.exc_message, ['boom']);
      assert.equal(error.exc_module, 'tasks');
      assert.match(error.traceback, /MyError: boom/);
    });

    it('shows PROGRESS in status() while get() keeps waiting', async () => {
      const releaseKey = `cn-release-${randomUUID()}`;
      const result = client.createTask('tasks.progress_then_wait').applyAsync([releaseKey, 2]);
      let settled = false;
      const final = result.get(30_000).finally(() => {
        settled = true;
      });
      await eventually(async () => (await result.status()) === 'PROGRESS');
      // The task writes PROGRESS twice; the second may land just after the first is seen.
      await eventually(async () => (await result.result()).current === 2);
      assert.equal(await result.status(), 'PROGRESS');
      assert.deepEqual(await result.result(), { current: 2, total: 2 });
      assert.equal(settled, false, 'get() must not settle on an intermediate state');
      await redisCommand(url, 'SET', releaseKey, '1', 'EX', '60');
      assert.equal(await final, 'done');
      await redisCommand(url, 'DEL', releaseKey);
    });

    it('answers null for unknown ids and times out with TIMEOUT', async () => {
      const unknown = client.asyncResult(randomUUID());
      assert.equal(await unknown.status(), null);
      assert.equal(await unknown.result(), null);
      await assert.rejects(unknown.get(200), (e) => e.message === 'TIMEOUT' && e.code === 'ERR_CELERY_TIMEOUT');
    });

    it('runs 1,000 concurrent tasks, none lost or duplicated', async () => {
      const add = client.createTask('tasks.add');
      const results = Array.from({ length: 1000 }, (_, i) => add.delay(i, 1000));
      assert.equal(new Set(results.map((r) => r.taskId)).size, 1000);
      const values = await Promise.all(results.map((r) => r.get(60_000)));
      assert.deepEqual(values, Array.from({ length: 1000 }, (_, i) => i + 1000));
      assert.equal(await redisCommand(url, 'LLEN', queue), 0);
      // Every result channel is given up once its get() settled (unsubscriptions go in batches).
      const channels = results.map((r) => `celery-task-meta-${r.taskId}`);
      await eventually(async () => {
        const counts = await redisCommand(url, 'PUBSUB', 'NUMSUB', ...channels);
        return counts.filter((_, i) => i % 2 === 1).every((n) => n === 0);
      });
    });

    it('delivers exactly the message we meant to send', async () => {
      const taskId = randomUUID();
      const before = Date.now();
      const result = client.sendTask('tasks.inspect', [1, 'é'], { k: null }, taskId, {
        countdown: 1,
        expires: 300,
        priority: 3,
        timeLimit: 30,
        softTimeLimit: 20,
        headers: { 'x-tenant': 'acme' },
      });
      const seen = await result.get(30_000);
      assert.equal(seen.protocol, protocol);
      assert.deepEqual(seen.args, [1, 'é']);
      assert.deepEqual(seen.kwargs, { k: null });
      const request = seen.request;
      assert.equal(request.id, taskId);
      assert.equal(request.task, 'tasks.inspect');
      assert.equal(request.correlation_id, taskId);
      assert.match(request.reply_to, /^[0-9a-f-]{36}$/);
      assert.deepEqual(request.timelimit, [30, 20]);
      assert.equal(request.delivery_info.routing_key, queue);
      assert.equal(request.delivery_info.priority, 3);
      const eta = Date.parse(request.eta);
      assert.ok(eta >= before + 1000 && eta <= Date.now() + 1000, `eta ${request.eta}`);
      assert.ok(Date.parse(request.expires) >= before + 300_000, `expires ${request.expires}`);
      const properties = seen.message.properties;
      assert.equal(properties.delivery_mode, 2);
      assert.equal(properties.priority, 3);
      assert.match(properties.expiration, /^\d+$/);
      if (protocol === 2) {
        const headers = seen.message.headers;
        assert.equal(headers.lang, 'js');
        assert.equal(headers.root_id, taskId);
        assert.equal(headers.parent_id, null);
        assert.equal(headers.argsrepr, "[1, 'é']");
        assert.equal(headers.kwargsrepr, "{'k': None}");
        assert.match(headers.origin, new RegExp(`^gen${process.pid}@`));
        assert.equal(headers['x-tenant'], 'acme');
        assert.deepEqual(seen.embed, { callbacks: null, errbacks: null, chain: null, chord: null });
      } else {
        assert.deepEqual(seen.message.headers, { 'x-tenant': 'acme' });
        assert.equal(seen.message.payload.task, 'tasks.inspect');
        assert.equal(seen.message.payload.utc, true);
      }
    });
  });
}
