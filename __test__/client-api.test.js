'use strict';
// celery-node's client API and Redis wire format, checked against a real Redis (no worker: the
// messages are read back from the queue).

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { randomUUID } = require('node:crypto');
const celery = require('..');
const { freePort } = require('./support/services');
const { uniqueQueue, dropQueue, recordTaskIds, dropResults, redisUrl, redisCommand } = require('./helpers');

const fixtures = require('../tests/fixtures/celery-5.7/results-redis.json');

const unhandled = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));
after(() => assert.deepEqual(unhandled, [], 'no unhandled rejections'));

/** The messages on a queue, oldest first, decoded as a worker would. */
async function queuedMessages(url, key) {
  const items = await redisCommand(url, 'LRANGE', key, '0', '-1');
  return items.reverse().map((text) => {
    const envelope = JSON.parse(text);
    return { envelope, body: JSON.parse(Buffer.from(envelope.body, 'base64').toString('utf8')) };
  });
}

describe('client API (celery-node shape)', () => {
  let url;
  let queue;
  let client;
  let taskIds;

  before(async () => {
    url = `${await redisUrl()}/0`;
    queue = uniqueQueue('api');
    client = celery.createClient(url, url, queue);
    taskIds = recordTaskIds(client);
  });

  after(async () => {
    await client.disconnect();
    await dropQueue(url, queue);
    await dropResults(url, taskIds);
  });

  it('gives every client its own conf with celery-node keys and defaults', () => {
    const a = celery.createClient();
    const b = new celery.Client('redis://h', 'redis://h', 'q');
    assert.deepEqual(Object.keys(a.conf).sort(), ['CELERY_BACKEND', 'CELERY_BACKEND_OPTIONS', 'CELERY_BROKER', 'CELERY_BROKER_OPTIONS', 'CELERY_QUEUE', 'TASK_PROTOCOL']);
    assert.equal(a.conf.CELERY_BROKER, 'amqp://');
    assert.equal(a.conf.TASK_PROTOCOL, 2);
    assert.equal(b.conf.CELERY_QUEUE, 'q');
    a.conf.CELERY_BROKER_OPTIONS.x = 1;
    assert.deepEqual(b.conf.CELERY_BROKER_OPTIONS, {});
  });

  it('throws Unsupported type at first use, not at creation', () => {
    const bad = celery.createClient('http://example.com', 'http://example.com');
    assert.throws(() => bad.isReady(), { message: 'Unsupported type: http', code: 'ERR_CELERY_UNSUPPORTED_SCHEME' });
    assert.throws(() => bad.createTask('t').delay(1), { message: 'Unsupported type: http' });
  });

  it('validates applyAsync arguments as celery-node does', () => {
    const task = client.createTask('tasks.add');
    assert.throws(() => task.applyAsync('nope'), { message: 'args is not array' });
    assert.throws(() => task.applyAsync([], 5), { message: 'kwargs is not object' });
  });

  it('returns an AsyncResult synchronously and publishes celery-node defaults', async () => {
    const task = client.createTask('tasks.add');
    const r1 = task.delay(1, 2, { c: 3 });
    const r2 = task.applyAsync();
    const r3 = client.sendTask('tasks.add', [4]);
    assert.ok(r1 instanceof celery.AsyncResult);
    await Promise.all([r1.sent, r2.sent, r3.sent]);
    const bodies = (await queuedMessages(url, queue)).slice(-3).map((m) => m.body);
    const embed = { callbacks: null, errbacks: null, chain: null, chord: null };
    assert.deepEqual(bodies, [
      [[1, 2, { c: 3 }], {}, embed], // a trailing object is positional
      [[], {}, embed],
      [[4], null, embed], // sendTask does not default kwargs
    ]);
  });

  it('reads TASK_PROTOCOL and CELERY_QUEUE at every send', async () => {
    const other = uniqueQueue('api-other');
    const local = celery.createClient(url, url, queue);
    local.conf.TASK_PROTOCOL = 1;
    const v1 = local.sendTask('tasks.add', [1, 1]);
    local.conf.TASK_PROTOCOL = 2;
    local.conf.CELERY_QUEUE = other;
    const v2 = local.sendTask('tasks.add', [2, 2], {});
    await Promise.all([v1.sent, v2.sent]);
    const [first] = (await queuedMessages(url, queue)).filter((m) => m.body.id === v1.taskId);
    assert.deepEqual(first.envelope.headers, {});
    assert.equal(first.body.task, 'tasks.add');
    assert.ok(!('kwargs' in first.body), 'v1 without kwargs leaves the key out');
    const [second] = await queuedMessages(url, other);
    assert.equal(second.envelope.headers.id, v2.taskId);
    local.conf.TASK_PROTOCOL = 3;
    assert.throws(() => local.sendTask('tasks.add', []), { code: 'ERR_CELERY_INVALID_OPTION', name: 'TypeError' });
    await local.disconnect();
    await dropQueue(url, other);
  });

  it('refuses arguments JSON cannot carry, synchronously, publishing nothing', async () => {
    const before = await redisCommand(url, 'LLEN', queue);
    const cyclic = {};
    cyclic.self = cyclic;
    const task = client.createTask('tasks.echo');
    for (const bad of [[() => 1], [Symbol('s')], [cyclic], [{ nested: { fn() {} } }]]) {
      assert.throws(() => task.applyAsync(bad), (e) => e instanceof TypeError && e.code === 'ERR_CELERY_NOT_JSON');
    }
    assert.throws(() => task.applyAsync([], { k: Symbol('k') }), { code: 'ERR_CELERY_NOT_JSON' });
    await client.createTask('tasks.add').delay(0, 0).sent; // a later publish flushes anything queued
    assert.equal(await redisCommand(url, 'LLEN', queue), before + 1);
  });

  it('writes kombu envelopes, bindings and priority sub-queues', async () => {
    const q = uniqueQueue('wire');
    const local = celery.createClient(url, url, q);
    const plain = local.sendTask('tasks.add', [1, 2], {});
    const urgent = local.sendTask('tasks.add', [3, 4], {}, undefined, { priority: 7 });
    await Promise.all([plain.sent, urgent.sent]);
    assert.deepEqual(await redisCommand(url, 'SMEMBERS', `_kombu.binding.${q}`), [`${q}\x06\x16\x06\x16${q}`]);
    const [message] = await queuedMessages(url, q);
    const [prioritized] = await queuedMessages(url, `${q}\x06\x166`);
    assert.equal(prioritized.envelope.headers.id, urgent.taskId);
    const { envelope } = message;
    assert.deepEqual(Object.keys(envelope), ['body', 'content-encoding', 'content-type', 'headers', 'properties']);
    assert.equal(envelope['content-type'], 'application/json');
    assert.equal(envelope.headers.lang, 'js');
    assert.deepEqual(Object.keys(envelope.headers).slice(0, 3), ['lang', 'task', 'id']);
    const props = envelope.properties;
    assert.equal(props.correlation_id, plain.taskId);
    assert.equal(props.correlationId, plain.taskId);
    assert.equal(props.replyTo, '');
    assert.deepEqual(props.delivery_info, { exchange: '', routing_key: q });
    assert.equal(props.body_encoding, 'base64');
    assert.equal(props.delivery_mode, 2);
    assert.equal(props.priority, 0);
    assert.notEqual(props.delivery_tag, prioritized.envelope.properties.delivery_tag);
    await local.disconnect();
    await dropQueue(url, q);
  });

  it('reads the backend through getTaskMeta once, then answers from its cache', async () => {
    const id = randomUUID();
    const result = client.asyncResult(id);
    await client.backend.storeResult(id, '100', 'SUCCESS');
    let calls = 0;
    const original = client.backend.getTaskMeta;
    client.backend.getTaskMeta = function spy(...args) {
      calls += 1;
      return original.apply(this, args);
    };
    try {
      assert.deepEqual(await Promise.all([result.get(), result.get(1000)]), ['100', '100']);
      assert.equal(await result.get(), '100');
      assert.deepEqual(await Promise.all([result.result(), result.status()]), ['100', 'SUCCESS']);
      assert.equal(calls, 1);
    } finally {
      client.backend.getTaskMeta = original;
    }
  });

  it('treats an unbounded timeout as none and settles when the result is stored', async () => {
    const result = client.asyncResult(randomUUID());
    const waiting = result.get(Infinity);
    assert.equal(await result.status(), null);
    await client.backend.storeResult(result.taskId, 'late', 'SUCCESS');
    assert.equal(await waiting, 'late');
  });

  it('polls any object with getTaskMeta, first after one interval', async () => {
    const calls = [];
    const started = Date.now();
    const backend = {
      getTaskMeta: async (id) => {
        calls.push(Date.now() - started);
        return calls.length < 2 ? { status: 'STARTED', result: null } : { status: 'SUCCESS', result: id };
      },
    };
    const { AsyncResult } = require('../dist/app/result');
    assert.equal(await new AsyncResult('abc', backend).get(5000, 50), 'abc');
    assert.equal(calls.length, 2);
    assert.ok(calls[0] >= 45, `first poll after ${calls[0]} ms`);
  });

  it('accepts every result meta Celery 5.7 writes', async () => {
    for (const name of ['success', 'failure', 'progress_midway', 'retry', 'bigint', 'chord_body']) {
      const meta = JSON.parse(fixtures[name]);
      await client.backend._native.storeTaskMeta(meta.task_id, fixtures[name], 60);
      const result = client.asyncResult(meta.task_id);
      assert.equal(await result.status(), meta.status, name);
    }
    // Extended results (result_extended=True) and the older date formats of Celery 5.0-5.2.
    const extendedId = randomUUID();
    const extended = { status: 'SUCCESS', result: [1, 'a'], traceback: null, children: [['x', null], null], date_done: '2022-03-28T01:02:03.456789', name: 'proj.echo', args: [1, 'a'], kwargs: { k: [1, 2] }, worker: 'w1@localhost', retries: 0, queue: 'celery', task_id: extendedId };
    await client.backend._native.storeTaskMeta(extendedId, JSON.stringify(extended), 60);
    assert.deepEqual(await client.asyncResult(extendedId).get(1000), [1, 'a']);
    const failure = JSON.parse(fixtures.failure);
    await assert.rejects(client.asyncResult(failure.task_id).get(1000), { message: 'FAILURE', exc_type: 'MyError', exc_module: 'fxtasks' });
    const id = randomUUID();
    const withTypes = { status: 'SUCCESS', result: [{ __type__: 'datetime', __value__: '2024-01-02T03:04:05.123456+00:00' }, { __type__: 'uuid', __value__: { hex: '12345678123456781234567812345678' } }], traceback: null, children: [], date_done: '2024-01-02T03:04:05Z', task_id: id };
    await client.backend._native.storeTaskMeta(id, JSON.stringify(withTypes), 60);
    // By default exactly what JSON.parse makes of it, as celery-node; decoded on request.
    assert.deepEqual(await client.asyncResult(id).get(1000), withTypes.result);
    client.options.decodeTypes = true;
    const [when, uuid] = await client.asyncResult(id).get(1000);
    client.options.decodeTypes = false;
    assert.ok(when instanceof Date && when.toISOString() === '2024-01-02T03:04:05.123Z');
    assert.equal(uuid, '12345678-1234-5678-1234-567812345678');
  });

  it('resolves deep imports to the same classes', () => {
    assert.equal(require('celery-native/dist/app/result').AsyncResult, celery.AsyncResult);
    assert.equal(require('celery-native/dist/app/client').default, celery.Client);
    assert.equal(require('celery-native/dist/app/task').default, celery.Task);
    assert.equal(typeof require('celery-native/dist/app/conf').defaultConf, 'function');
    assert.ok(new (require('celery-native/dist/backends/redis').default)(url, {}).getTaskMeta);
    assert.ok(celery.Client.prototype instanceof require('celery-native/dist/app/base').default);
  });
});

describe('unreachable broker and backend', () => {
  it('rejects isReady, sent and get() with typed errors, reports on the client, never crashes', async () => {
    const port = await freePort();
    const url = `redis://:s3cret@127.0.0.1:${port}/0`;
    const client = celery.createClient(url, url, uniqueQueue('down'));
    client.conf.CELERY_BROKER_OPTIONS = { connectTimeout: 300 };
    client.conf.CELERY_BACKEND_OPTIONS = { connectTimeout: 300 };
    const reported = [];
    client.on('error', (e) => reported.push(e));

    await assert.rejects(client.isReady(), (e) => /UNREACHABLE/.test(e.code) && !e.message.includes('s3cret'));
    const result = client.createTask('tasks.add').delay(1, 2);
    // No timeout: it must still end. The handler is attached at once, as a caller's await would.
    const getting = result.get().then(() => assert.fail('get() should reject'), (e) => e);
    const sendError = await result.sent.then(() => assert.fail('sent should reject'), (e) => e);
    assert.equal(sendError.code, 'ERR_CELERY_BROKER_UNREACHABLE');
    assert.equal(sendError.taskId, result.taskId);
    assert.ok(!sendError.message.includes('s3cret'), sendError.message);
    assert.match((await getting).code, /^ERR_CELERY_(BROKER|BACKEND)_UNREACHABLE$/);
    assert.deepEqual(reported.map((e) => e.taskId), [result.taskId]);
    // A result nobody asked about fails quietly: no unhandled rejection (checked in `after`).
    const ignored = client.createTask('tasks.add').delay(3, 4);
    await client.disconnect();
    assert.equal(ignored.taskId.length, 36);
  });
});

describe('bulk sends and task defaults', () => {
  it('sends 10,000 tasks in one sendTasks call, each delivered once', async () => {
    const url = `${await redisUrl()}/0`;
    const queue = uniqueQueue('bulk');
    const client = celery.createClient(url, url, queue);
    const results = client.sendTasks(Array.from({ length: 10_000 }, (_, i) => ({ name: 'tasks.add', args: [i, i] })));
    await Promise.all(results.map((r) => r.sent));
    const ids = (await redisCommand(url, 'LRANGE', queue, '0', '-1')).map((text) => JSON.parse(text).headers.id);
    assert.equal(ids.length, 10_000);
    assert.equal(new Set(ids).size, 10_000);
    assert.deepEqual(new Set(ids), new Set(results.map((r) => r.taskId)));
    // In order: the list's tail, which a worker pops first, holds the first task.
    assert.deepEqual(ids.reverse(), results.map((r) => r.taskId));
    assert.throws(() => client.sendTasks([{ name: 'tasks.add', args: [() => 1] }]), { code: 'ERR_CELERY_NOT_JSON' });
    await client.disconnect();
    await dropQueue(url, queue);
  });

  it('sends each task of a sendTasks call with its own options, and queues none if one is invalid', async () => {
    const url = `${await redisUrl()}/0`;
    const queue = uniqueQueue('bulk-options');
    const client = celery.createClient(url, url, queue);
    const valid = { name: 'tasks.add', args: [1, 1] };
    assert.throws(() => client.sendTasks([valid, { ...valid, options: { compression: 'lzma' } }]), { code: 'ERR_CELERY_INVALID_OPTION' });
    assert.throws(() => client.sendTasks([valid, { ...valid, options: { priority: 300 } }]), { code: 'ERR_CELERY_INVALID_OPTION' });
    assert.throws(() => client.sendTasks([valid, { ...valid, options: { link: 'not a signature' } }]), { code: 'ERR_CELERY_INVALID_ARGUMENT' });
    const [urgent, dated] = client.sendTasks([
      { name: 'tasks.add', args: [1, 1], options: { priority: 9, countdown: 60, headers: { 'x-tenant': 'acme' } } },
      { name: 'tasks.echo', args: [], kwargs: { at: new Date(0) }, taskId: 'bulk-fixed-id' },
    ]);
    await Promise.all([urgent.sent, dated.sent]);
    assert.equal(dated.taskId, 'bulk-fixed-id');
    const high = await redisCommand(url, 'LRANGE', `${queue}\x06\x169`, '0', '-1');
    assert.equal(high.length, 1);
    const highMessage = JSON.parse(high[0]);
    assert.equal(highMessage.headers.id, urgent.taskId);
    assert.equal(highMessage.properties.priority, 9);
    assert.equal(highMessage.headers['x-tenant'], 'acme');
    assert.ok(Date.parse(highMessage.headers.eta) > Date.now() + 50_000, highMessage.headers.eta);
    const plain = await redisCommand(url, 'LRANGE', queue, '0', '-1');
    assert.equal(plain.length, 1, 'the invalid batches queued nothing');
    const body = JSON.parse(Buffer.from(JSON.parse(plain[0]).body, 'base64').toString());
    assert.deepEqual(body[1], { at: { __type__: 'datetime', __value__: '1970-01-01T00:00:00.000000+00:00' } });
    await client.disconnect();
    await dropQueue(url, queue);
    await redisCommand(url, 'DEL', `${queue}\x06\x169`);
  });

  it('sends a sendTasks call that mixes plain tasks and tasks with callbacks in order', async () => {
    const url = `${await redisUrl()}/0`;
    const queue = uniqueQueue('bulk-mixed');
    const client = celery.createClient(url, url, queue);
    const plain = (i) => ({ name: 'tasks.add', args: [i, i] });
    const linked = { name: 'tasks.add', args: [9, 9], options: { link: client.signature('tasks.echo') } };
    const results = client.sendTasks([plain(1), plain(2), linked, plain(3)]);
    await Promise.all(results.map((r) => r.sent));
    const messages = (await redisCommand(url, 'LRANGE', queue, '0', '-1')).map((text) => JSON.parse(text)).reverse();
    assert.deepEqual(messages.map((m) => m.headers.id), results.map((r) => r.taskId));
    const callbacks = messages.map((m) => JSON.parse(Buffer.from(m.body, 'base64').toString())[2].callbacks);
    assert.deepEqual(callbacks.map((c) => (c ? c.map((s) => s.task) : null)), [null, null, ['tasks.echo'], null]);
    await client.disconnect();
    await dropQueue(url, queue);
  });

  it('routes by conf.TASK_ROUTES: names, globs, functions, first match; defaults and call options win', async () => {
    const url = `${await redisUrl()}/0`;
    const [home, daily, reports, images, explicit] = ['home', 'daily', 'reports', 'images', 'explicit'].map(uniqueQueue);
    const client = celery.createClient(url, url, home);
    client.conf.TASK_ROUTES = [
      { 'reports.daily': daily, 'reports.*': { queue: reports, routing_key: reports, priority: 7 } },
      (name) => (name.startsWith('images.') ? { queue: images } : null),
    ];
    const sent = [
      client.createTask('reports.daily').applyAsync([]),
      client.createTask('reports.weekly').applyAsync([]),
      client.createTask('images.resize').applyAsync([]),
      client.createTask('other.task').applyAsync([]),
      client.createTask('reports.daily').applyAsync([], {}, { queue: explicit }),
      client.createTask('reports.monthly', { queue: explicit, priority: 0 }).applyAsync([]),
      client.sendTask('images.crop', [1]),
      celery.chain(client.createTask('reports.yearly').s()).applyAsync(),
    ];
    await Promise.all(sent.map((r) => r.sent));
    const names = async (key) => (await queuedMessages(url, key)).map((m) => m.envelope.headers.task);
    assert.deepEqual(await names(daily), ['reports.daily']);
    // priority 7 → kombu's bucket 6
    assert.deepEqual(await names(`${reports}\x06\x166`), ['reports.weekly', 'reports.yearly']);
    assert.deepEqual(await names(images), ['images.resize', 'images.crop']);
    assert.deepEqual(await names(home), ['other.task']);
    assert.deepEqual(await names(explicit), ['reports.daily', 'reports.monthly']);
    await client.disconnect();
    for (const queue of [home, daily, reports, images, explicit]) await dropQueue(url, queue);
  });

  it('applies createTask default options to every call, a call overriding them', async () => {
    const url = `${await redisUrl()}/0`;
    const queue = uniqueQueue('defaults');
    const urgent = uniqueQueue('urgent');
    const client = celery.createClient(url, url, queue);
    const task = client.createTask('tasks.add', { queue: urgent, priority: 7 });
    await task.delay(1, 1).sent;
    await task.applyAsync([2, 2], {}, { priority: 0 }).sent;
    assert.equal(await redisCommand(url, 'LLEN', `${urgent}\x06\x166`), 1);
    assert.equal(await redisCommand(url, 'LLEN', urgent), 1);
    assert.equal(await redisCommand(url, 'LLEN', queue), 0);
    await client.disconnect();
    await dropQueue(url, urgent);
  });
});

describe('per-call reply queue', () => {
  it('writes replyTo into the reply_to property, as apply_async(reply_to=...)', async () => {
    const url = `${await redisUrl()}/0`;
    const queue = uniqueQueue('replyto');
    const client = celery.createClient(url, url, queue);
    await client.createTask('tasks.add').applyAsync([1, 1], {}, { replyTo: 'my-replies' }).sent;
    await client.createTask('tasks.add').applyAsync([1, 1]).sent;
    const [own, defaulted] = await queuedMessages(url, queue);
    assert.equal(own.envelope.properties.reply_to, 'my-replies');
    assert.equal(defaulted.envelope.properties.reply_to, client.broker.replyTo);
    await client.disconnect();
    await dropQueue(url, queue);
  });
});

describe('state watches and failed publishes', () => {
  it('ends states() with the publish error when the task never reached the broker', async () => {
    const port = await freePort();
    const backend = `${await redisUrl()}/0`;
    const client = celery.createClient(`redis://127.0.0.1:${port}/0`, backend, uniqueQueue('lost'));
    client.conf.CELERY_BROKER_OPTIONS = { connectTimeout: 300 };
    const result = client.createTask('tasks.add').delay(1, 2);
    const seen = [];
    await assert.rejects(
      (async () => {
        for await (const meta of result.states()) seen.push(meta.status);
      })(),
      { code: 'ERR_CELERY_BROKER_UNREACHABLE' },
    );
    assert.deepEqual(seen, []);
    await client.disconnect();
  });
});
