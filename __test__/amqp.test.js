'use strict';
// RabbitMQ: Node client → real Python Celery 5.7 worker over AMQP (results in Redis), Celery's
// topology, publisher confirms and returned messages.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { randomUUID } = require('node:crypto');
const { spawn } = require('node:child_process');
const { once } = require('node:events');
const { createClient } = require('..');
const { amqpUrl, freePort } = require('./support/services');
const { startWorker, runPython } = require('./support/worker');
const { uniqueQueue, recordTaskIds, dropResults, amqpConnectionsNamed, closeAmqpConnections, rabbitmqctl, eventually, redisUrl, redisCommand } = require('./helpers');

const admin = (url, ...args) => runPython('amqp_admin.py', [url, ...args]);

for (const protocol of [2, 1]) {
  describe(`Node client → Python worker over AMQP, protocol ${protocol}`, () => {
    let broker;
    let backend;
    let queue;
    let worker;
    let client;
    let taskIds;

    before(async () => {
      broker = await amqpUrl();
      backend = `${await redisUrl()}/0`;
      queue = uniqueQueue(`amqp-p${protocol}`);
      worker = await startWorker({ broker, backend, queues: [queue], concurrency: 8 });
      client = createClient(broker, backend, queue);
      client.conf.TASK_PROTOCOL = protocol;
      taskIds = recordTaskIds(client);
    });

    after(async () => {
      await client.disconnect();
      await worker.stop();
      await admin(broker, 'delete', queue);
      await dropResults(backend, taskIds);
    });

    it('runs tasks and keeps arguments intact', async () => {
      assert.equal(await client.createTask('tasks.add').delay(2, 3).get(20_000), 5);
      const args = ['héllo ✓ 🚀', { deep: [1, 2.5, null, true] }, null];
      const kwargs = { big: 'x'.repeat(200_000), n: -0.5 };
      assert.deepEqual(await client.createTask('tasks.echo').applyAsync(args, kwargs).get(20_000), { args, kwargs });
    });

    it('runs a zlib-compressed task', async () => {
      const args = ['é'.repeat(5_000)];
      assert.deepEqual(await client.createTask('tasks.echo').applyAsync(args, {}, { compression: 'zlib' }).get(20_000), { args, kwargs: {} });
    });

    it('runs 1,000 concurrent tasks, none lost or duplicated', async () => {
      const add = client.createTask('tasks.add');
      const results = Array.from({ length: 1000 }, (_, i) => add.delay(i, 1));
      const values = await Promise.all(results.map((r) => r.get(60_000)));
      assert.deepEqual(values, Array.from({ length: 1000 }, (_, i) => i + 1));
    });

    it('delivers the headers and properties we meant to send', async () => {
      const taskId = randomUUID();
      const result = client.sendTask('tasks.inspect', [1, 'é'], { k: null }, taskId, { priority: 4, expires: 300, countdown: 1, headers: { 'x-tenant': 'acme', 'x-n': 7 } });
      const seen = await result.get(30_000);
      const { properties, headers, delivery_info: deliveryInfo } = seen.message;
      assert.equal(properties.correlation_id, taskId);
      assert.equal(properties.priority, 4);
      assert.equal(properties.delivery_mode, 2);
      assert.equal(properties.content_type, 'application/json');
      assert.match(properties.expiration, /^\d+$/);
      assert.ok(Number(properties.expiration) > 290_000 && Number(properties.expiration) <= 300_000);
      assert.equal(deliveryInfo.routing_key, queue);
      assert.equal(deliveryInfo.exchange, '');
      assert.equal(headers['x-tenant'], 'acme'); // a long string, not bytes
      assert.equal(headers['x-n'], 7);
      if (protocol === 2) {
        assert.equal(headers.lang, 'js');
        assert.equal(headers.id, taskId);
        assert.deepEqual(headers.timelimit, [null, null]);
        assert.equal(headers.argsrepr, "[1, 'é']");
        assert.ok(Date.parse(headers.eta) > Date.now() - 60_000);
      } else {
        assert.equal(seen.message.payload.id, taskId);
      }
      assert.deepEqual(seen.args, [1, 'é']);
    });
  });
}

for (const protocol of [2, 1]) {
  describe(`rpc:// results from a Python worker, protocol ${protocol}`, () => {
    let broker;
    let redis;
    let queue;
    let worker;
    let client;

    before(async () => {
      broker = await amqpUrl();
      redis = `${await redisUrl()}/0`;
      queue = uniqueQueue(`rpc-p${protocol}`);
      worker = await startWorker({ broker, backend: 'rpc://', queues: [queue], concurrency: 8, env: { CELERY_NATIVE_TEST_REDIS_URL: redis } });
      client = createClient(broker, 'rpc://', queue);
      client.conf.TASK_PROTOCOL = protocol;
    });

    after(async () => {
      await client.disconnect();
      await worker.stop();
      await admin(broker, 'delete', queue, client.broker.replyTo);
    });

    it('returns results and Python exceptions through the reply queue', async () => {
      const result = client.createTask('tasks.add').delay(2, 3);
      assert.equal(await result.get(20_000), 5);
      assert.equal(await result.status(), 'SUCCESS');
      const error = await client.createTask('tasks.fail').delay('boom').get(20_000).catch((e) => e);
      assert.equal(error.message, 'FAILURE');
      assert.equal(error.exc_type, 'MyError');
      assert.deepEqual(error.exc_message, ['boom']);
    });

    it('dispatches interleaved replies of many tasks by correlation id', async () => {
      const add = client.createTask('tasks.add');
      const results = Array.from({ length: 300 }, (_, i) => add.delay(i, 1));
      const expected = results.map((_, i) => i + 1);
      // Two get()s of each task in the same tick: the one reply settles both.
      const both = await Promise.all([0, 1].map(() => Promise.all(results.map((r) => r.get(60_000)))));
      assert.deepEqual(both, [expected, expected]);
      // A reply already received answers a new wait at once: it is not awaited again.
      assert.deepEqual(await Promise.all(results.map((r) => client.asyncResult(r.taskId).get(2_000))), expected);
    });

    it('shows PROGRESS in status() while get() keeps waiting', async () => {
      const releaseKey = `cn-release-${randomUUID()}`;
      const result = client.createTask('tasks.progress_then_wait').applyAsync([releaseKey, 2]);
      let settled = false;
      const final = result.get(30_000).finally(() => (settled = true));
      await eventually(async () => (await result.status()) === 'PROGRESS');
      assert.equal(settled, false);
      await redisCommand(redis, 'SET', releaseKey, '1', 'EX', '60');
      assert.equal(await final, 'done');
      await redisCommand(redis, 'DEL', releaseKey);
    });

    it('answers null for unknown ids and times out with TIMEOUT', async () => {
      const unknown = client.asyncResult(randomUUID());
      assert.equal(await unknown.status(), null);
      await assert.rejects(unknown.get(200), { code: 'ERR_CELERY_TIMEOUT' });
    });
  });
}

describe('AMQP topology owned by the workers', () => {
  for (const [label, queueArguments] of [['a priority queue', { 'x-max-priority': 10 }], ['a quorum queue', { 'x-queue-type': 'quorum' }]]) {
    it(`publishes into ${label} declared by a Python worker, without a 406`, async () => {
      const broker = await amqpUrl();
      const backend = `${await redisUrl()}/0`;
      const queue = uniqueQueue('owned');
      const worker = await startWorker({
        broker, backend, queues: [queue],
        env: { CELERY_NATIVE_TEST_QUEUES: queue, CELERY_NATIVE_TEST_QUEUE_ARGUMENTS: JSON.stringify(queueArguments) },
      });
      try {
        for (const options of [{ queueArguments }, { passive: true }]) {
          const client = createClient(broker, backend, queue);
          client.conf.CELERY_BROKER_OPTIONS = options;
          const ids = recordTaskIds(client);
          const result = client.createTask('tasks.add').applyAsync([20, 22], {}, { priority: 9 });
          await result.sent;
          assert.equal(await result.get(30_000), 42);
          await client.disconnect();
          await dropResults(backend, ids);
        }
      } finally {
        await worker.stop();
        await admin(broker, 'delete', queue);
      }
    });
  }

  it('delays a countdown task in RabbitMQ (native delayed delivery) for quorum queues behind a topic exchange', async () => {
    const broker = await amqpUrl();
    const backend = `${await redisUrl()}/0`;
    const queue = uniqueQueue('delayed');
    const exchange = `${queue}-topic`;
    const worker = await startWorker({
      broker, backend, queues: [queue],
      env: {
        CELERY_NATIVE_TEST_QUEUES: queue,
        CELERY_NATIVE_TEST_QUEUE_ARGUMENTS: JSON.stringify({ 'x-queue-type': 'quorum' }),
        CELERY_NATIVE_TEST_QUEUE_EXCHANGE: exchange,
        CELERY_NATIVE_TEST_QUEUE_EXCHANGE_TYPE: 'topic',
      },
    });
    const client = createClient(broker, backend, queue);
    client.conf.CELERY_BROKER_OPTIONS = { nativeDelayedDelivery: true };
    const ids = recordTaskIds(client);
    try {
      const before = Date.now();
      const result = client.sendTask('tasks.inspect', [], {}, undefined, { exchange, routingKey: queue, countdown: 2 });
      const seen = await result.get(30_000);
      // It waited in Celery's delay queues (dead-lettered from there), not in the worker.
      assert.equal(seen.message.delivery_info.exchange, 'celery_delayed_delivery');
      assert.ok(Array.isArray(seen.message.headers['x-death']), 'dead-lettered by a delay queue');
      assert.ok(Date.now() - before >= 2000);
      assert.ok(Date.parse(seen.request.eta) >= before + 2000);
    } finally {
      await client.disconnect();
      await worker.stop();
      await admin(broker, 'delete', queue, exchange);
      // The delay levels the Python worker declared.
      await admin(broker, 'delete', 'celery_delayed_delivery', ...Array.from({ length: 28 }, (_, i) => `celery_delayed_${i}`));
      await dropResults(backend, ids);
    }
  });

  it('reports a refused declaration on the message and keeps working', async () => {
    const broker = await amqpUrl();
    const backend = `${await redisUrl()}/0`;
    const queue = uniqueQueue('refused');
    const other = uniqueQueue('fine');
    const owner = createClient(broker, backend, queue);
    owner.conf.CELERY_BROKER_OPTIONS = { queueArguments: { 'x-max-priority': 5 } };
    await owner.createTask('tasks.add').delay(1, 1).sent;
    const client = createClient(broker, backend, queue); // declares without the argument: 406
    const refused = client.createTask('tasks.add').delay(1, 2);
    await assert.rejects(refused.sent, (e) => e.code === 'ERR_CELERY_PUBLISH_FAILED' && /PRECONDITION_FAILED/.test(e.message));
    const fine = client.createTask('tasks.add').applyAsync([1, 3], {}, { queue: other });
    await fine.sent;
    assert.equal(await admin(broker, 'count', other).then(Number), 1);
    // In one batch: the refusal fails its own message only, those around it go out once.
    const add = client.createTask('tasks.add');
    const around = (n) => Array.from({ length: n }, (_, i) => add.applyAsync([i, 4], {}, { queue: other }));
    const before = around(3);
    const refusedAgain = add.delay(1, 5);
    const after = around(3);
    await assert.rejects(refusedAgain.sent, (e) => e.code === 'ERR_CELERY_PUBLISH_FAILED');
    await Promise.all([...before, ...after].map((r) => r.sent));
    // Nothing sent twice: what went out before the refusal was confirmed before the declaration.
    assert.equal(await admin(broker, 'count', other).then(Number), 7);
    await client.disconnect();
    await owner.disconnect();
    await admin(broker, 'delete', queue, other);
  });
});

describe('AMQP URLs', () => {
  it('fails over to the next URL of a ; list, and names every URL without its password', async () => {
    const broker = await amqpUrl();
    const backend = `${await redisUrl()}/0`;
    const queue = uniqueQueue('failover');
    const closedPort = await freePort();
    const client = createClient(`amqp://guest:hidden@127.0.0.1:${closedPort}//;${broker}`, backend, queue);
    await client.createTask('tasks.add').delay(1, 1).sent;
    assert.equal(await admin(broker, 'count', queue).then(Number), 1);
    await client.disconnect();
    await admin(broker, 'delete', queue);

    const nowhere = createClient(`amqp://guest:hidden@127.0.0.1:${closedPort}//`, backend);
    nowhere.conf.CELERY_BROKER_OPTIONS = { connectTimeout: 500 };
    await assert.rejects(nowhere.broker.isReady(), (e) => e.code === 'ERR_CELERY_BROKER_UNREACHABLE' && e.message.includes('guest:***@') && !e.message.includes('hidden'));
    // A broker that never answered fails the message within the connect timeout.
    await assert.rejects(nowhere.createTask('tasks.add').delay(1, 1).sent, { code: 'ERR_CELERY_BROKER_UNREACHABLE' });
    await nowhere.disconnect();
  });

  it('needs an AMQP broker for rpc:// results', () => {
    const client = createClient('redis://127.0.0.1:6379/0', 'rpc://');
    assert.throws(() => client.createTask('tasks.add').delay(1, 1), { code: 'ERR_CELERY_INVALID_OPTION' });
  });
});

describe('publisher confirms', () => {
  it('settles sent only once RabbitMQ has the message, and rejects a returned one', async () => {
    const broker = await amqpUrl();
    const backend = `${await redisUrl()}/0`;
    const queue = uniqueQueue('confirm');
    const client = createClient(broker, backend, queue);
    const results = Array.from({ length: 200 }, (_, i) => client.createTask('tasks.add').delay(i, i));
    await Promise.all(results.map((r) => r.sent));
    assert.equal(await admin(broker, 'count', queue).then(Number), 200);

    // The queue disappears behind the client's back: the next message comes back unroutable.
    await admin(broker, 'delete', queue);
    const lost = client.createTask('tasks.add').delay(0, 0);
    await assert.rejects(lost.sent, { code: 'ERR_CELERY_UNROUTABLE' });
    // ...and the next one declares the queue again.
    await client.createTask('tasks.add').delay(0, 1).sent;
    assert.equal(await admin(broker, 'count', queue).then(Number), 1);
    await client.disconnect();
    await admin(broker, 'delete', queue);
  });

  it('closes its connection on disconnect()', async () => {
    const broker = await amqpUrl();
    const queue = uniqueQueue('close');
    const connectionName = `celery-native-test-${randomUUID()}`;
    const client = createClient(broker, `${await redisUrl()}/0`, queue);
    client.conf.CELERY_BROKER_OPTIONS = { connectionName };
    await client.createTask('tasks.add').delay(1, 1).sent;
    assert.equal((await amqpConnectionsNamed(connectionName)).length, 1);
    await client.disconnect();
    await eventually(async () => (await amqpConnectionsNamed(connectionName)).length === 0);
    await admin(broker, 'delete', queue);
  });

  it('passive declaration of a missing queue fails the message instead of dropping it', async () => {
    const broker = await amqpUrl();
    const backend = `${await redisUrl()}/0`;
    const client = createClient(broker, backend, uniqueQueue('missing'));
    client.conf.CELERY_BROKER_OPTIONS = { passive: true };
    await assert.rejects(client.createTask('tasks.add').delay(1, 1).sent, (e) => e.code === 'ERR_CELERY_PUBLISH_FAILED' && /NOT_FOUND/.test(e.message));
    await client.disconnect();
  });
});

describe('connection loss', () => {
  it('re-sends messages whose confirms were lost with the connection', async () => {
    const broker = await amqpUrl();
    const backend = `${await redisUrl()}/0`;
    const queue = uniqueQueue('resend');
    const connectionName = `celery-native-test-${randomUUID()}`;
    const client = createClient(broker, backend, queue);
    client.conf.CELERY_BROKER_OPTIONS = { connectionName };
    const task = client.createTask('tasks.add');
    await task.delay(0, 0).sent; // connected, queue declared
    const watermark = (await rabbitmqctl('eval', 'vm_memory_monitor:get_vm_memory_high_watermark().')).trim();
    let results;
    try {
      // A memory alarm makes RabbitMQ stop reading publishes: they stay unconfirmed.
      await rabbitmqctl('set_vm_memory_high_watermark', '0');
      results = Array.from({ length: 200 }, (_, i) => task.delay(i, i));
      let settled = 0;
      for (const r of results) r.sent.finally(() => (settled += 1)).catch(() => {});
      assert.equal(await closeAmqpConnections(connectionName), 1);
      assert.equal(settled, 0, 'nothing was confirmed while publishing was blocked');
    } finally {
      await rabbitmqctl('set_vm_memory_high_watermark', watermark);
    }
    await Promise.all(results.map((r) => r.sent));
    await client.disconnect();
    const onQueue = JSON.parse(await admin(broker, 'drain', queue));
    assert.deepEqual(results.map((r) => r.taskId).filter((id) => !onQueue.includes(id)), []);
    await admin(broker, 'delete', queue);
  });


  it('reconnects when RabbitMQ closes the connection mid-stream; every confirmed task is on the queue', async () => {
    const broker = await amqpUrl();
    const backend = `${await redisUrl()}/0`;
    const queue = uniqueQueue('fault');
    const connectionName = `celery-native-test-${randomUUID()}`;
    const client = createClient(broker, backend, queue);
    client.conf.CELERY_BROKER_OPTIONS = { connectionName };
    const reported = [];
    client.on('error', (e) => reported.push(e));
    const task = client.createTask('tasks.add');
    const results = [task.delay(0, 0)];
    await results[0].sent; // connected
    // rabbitmqctl takes a few hundred ms; the sends are spread over longer than that, so the
    // connection closes while messages are in flight.
    const closing = closeAmqpConnections(connectionName);
    for (let wave = 0; wave < 37; wave++) {
      for (let i = 0; i < 27; i++) results.push(task.delay(wave, i));
      await new Promise((resolve) => setTimeout(resolve, 20)); // pacing the stream, not waiting for an event
    }
    assert.equal(results.length, 1000);
    const outcomes = await Promise.allSettled(results.map((r) => r.sent));
    assert.equal(await closing, 1, 'the client had one connection, and it was closed');
    assert.deepEqual(outcomes.filter((o) => o.status === 'rejected'), []);
    assert.deepEqual(reported, []);
    await client.disconnect();

    // At least once: a message whose confirm was lost with the connection is sent again.
    const onQueue = JSON.parse(await admin(broker, 'drain', queue));
    const missing = results.map((r) => r.taskId).filter((id) => !onQueue.includes(id));
    assert.deepEqual(missing, []);
    assert.ok(onQueue.length >= 1000, `${onQueue.length} messages`);
    if (process.env.CELERY_NATIVE_TEST_VERBOSE) console.log(`fault test: ${onQueue.length - 1000} duplicates`);
    await admin(broker, 'delete', queue);
  });
});

describe('process lifetime over AMQP', () => {
  it('a child that sends 1,000 tasks and disconnects exits within 5 s with all of them confirmed', async () => {
    const broker = await amqpUrl();
    const queue = uniqueQueue('amqp-exit');
    const source = `
      const { createClient } = require(${JSON.stringify(require.resolve('..'))});
      const client = createClient(process.env.BROKER, 'redis://127.0.0.1:1/0', process.env.QUEUE);
      const task = client.createTask('tasks.add');
      for (let i = 0; i < 1000; i++) task.delay(i, i);
      client.disconnect();
    `;
    const started = Date.now();
    const child = spawn(process.execPath, ['-e', source], { env: { ...process.env, BROKER: broker, QUEUE: queue }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const [code] = await once(child, 'exit');
    assert.equal(code, 0, stderr);
    assert.ok(Date.now() - started < 5000, `exited after ${Date.now() - started} ms`);
    assert.equal(Number(await admin(broker, 'count', queue)), 1000);
    await admin(broker, 'delete', queue);
  });
});

describe("celery-node's amqp:// result backend", () => {
  it('reads what celery-node stores and stores what celery-node reads', async () => {
    const broker = await amqpUrl();
    const TheirBackend = require('celery-node/dist/backends/amqp').default;
    const OurBackend = require('../dist/backends/amqp').default;
    const { AsyncResult } = require('../dist/app/result');
    const theirs = new TheirBackend(broker, {});
    const ours = new OurBackend(broker, {});
    const [fromThem, fromUs, failed, unknown] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];

    assert.equal(await theirs.storeResult(fromThem, { n: 1 }, 'SUCCESS'), true);
    assert.deepEqual(await new AsyncResult(fromThem, ours).get(5000, 20), { n: 1 });
    assert.deepEqual(await ours.getTaskMeta(fromThem).then((m) => m.result), { n: 1 }, 'a result once read stays readable');

    assert.equal(await ours.storeResult(fromUs, [1, 'é'], 'SUCCESS'), true);
    assert.deepEqual((await theirs.getTaskMeta(fromUs)).result, [1, 'é']);

    await ours.storeResult(failed, new Error('nope'), 'FAILURE');
    await assert.rejects(new AsyncResult(failed, ours).get(5000, 20), { message: 'FAILURE' });
    assert.equal(await ours.getTaskMeta(unknown), null);

    await theirs.disconnect();
    await ours.disconnect();
    await admin(broker, 'delete', ...[fromThem, fromUs, failed, unknown].map((id) => id.replace(/-/g, '')));
  });
});
