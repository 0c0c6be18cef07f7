'use strict';
// Every per-call option of the client (the last argument of `applyAsync` / `sendTask`), checked
// on real Python Celery 5.7 workers over both brokers (Redis with Redis results, RabbitMQ with
// rpc:// results): where the worker finds each option (tasks.inspect: self.request and the raw
// message), and what it does (countdown and eta hold a task, an expired task is REVOKED, queue
// and exchange route it, priority orders it, ignoreResult stores nothing, replyTo sends the
// rpc:// result elsewhere).
//
// Not repeated here: what interop.test.js and amqp.test.js already assert about one message
// (countdown → eta, numeric expires, the priority property, timelimit [30, 20], string and integer
// headers, sendTask's taskId argument), the zlib round trips there, canvas.test.js's errback
// run over Redis, and control.test.js's exchange + routingKey reaching its queue.
//
// Tests here found three bugs, since fixed and kept as regressions: eta / expires given as a Date
// or ISO string written 1 µs early; `exchange` without `routingKey` not falling back to the queue
// as Celery does; and, over RabbitMQ, an `expires` whose TTL RabbitMQ refuses never settling.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { randomUUID } = require('node:crypto');
const { spawn } = require('node:child_process');
const { once } = require('node:events');
const { createClient } = require('..');
const { amqpUrl } = require('./support/services');
const { startWorker, runPython } = require('./support/worker');
const { uniqueQueue, dropQueue, recordTaskIds, dropResults, eventually, redisUrl, redisCommand } = require('./helpers');

const GET_TIMEOUT = 20_000;

/** How a Python client writes an instant (datetime.isoformat(), UTC): 6-digit fraction, +00:00. */
const CELERY_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/;

/** What Python's isoformat() writes for this Date (its milliseconds are whole microseconds). */
function pythonIso(date) {
  return date.toISOString().replace(/Z$/, '000+00:00');
}

/** Microseconds since the epoch of an ISO 8601 text, exactly (Date.parse stops at milliseconds). */
function micros(text) {
  const parts = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  assert.ok(parts, `not an ISO 8601 time: ${text}`);
  return BigInt(Date.parse(`${parts[1]}${parts[3]}`)) * 1000n + BigInt((parts[2] || '').padEnd(6, '0').slice(0, 6));
}

/** `text` is within the same millisecond as `date`. */
function assertSameMillisecond(text, date, label) {
  const offset = micros(text) - BigInt(date.getTime()) * 1000n;
  assert.ok(offset > -1000n && offset < 1000n, `${label}: ${text} is not ${date.toISOString()}`);
}

/** Which test worker ran the task (`w<hex>@%h`, as startWorker names it). */
function ranOn(seen, worker) {
  return seen.request.hostname.split('@')[0] === worker.name.split('@')[0];
}

for (const transport of ['redis', 'amqp']) {
  describe(`per-call options over ${transport === 'redis' ? 'Redis (Redis results)' : 'RabbitMQ (rpc:// results)'}`, () => {
    let redis; // results (Redis transport) and the keys link callbacks write
    let broker;
    let backend;
    let queue; // the client's queue, consumed by `main`
    let otherQueue; // consumed by `other`, and bound to `exchange` with `routingKey`
    let exchange;
    const routingKey = 'cn.options.route';
    let main;
    let other;
    let client;
    let replyClient; // a second client, whose rpc:// reply queue receives results sent with replyTo
    let sentIds; // every task the client sent
    const taskIds = []; // ids of callbacks, which workers send
    const redisKeys = [];
    const queues = [];

    const env = () => ({ CELERY_NATIVE_TEST_REDIS_URL: redis });

    before(async () => {
      redis = `${await redisUrl()}/0`;
      broker = transport === 'redis' ? redis : await amqpUrl();
      backend = transport === 'redis' ? redis : 'rpc://';
      queue = uniqueQueue(`options-${transport}`);
      otherQueue = uniqueQueue(`options-other-${transport}`);
      exchange = `${otherQueue}-exchange`;
      queues.push(queue, otherQueue);
      [main, other] = await Promise.all([
        startWorker({ broker, backend, queues: [queue], env: env() }),
        startWorker({
          broker, backend, queues: [otherQueue],
          env: { ...env(), CELERY_NATIVE_TEST_QUEUES: otherQueue, CELERY_NATIVE_TEST_QUEUE_EXCHANGE: exchange, CELERY_NATIVE_TEST_QUEUE_ROUTING_KEY: routingKey },
        }),
      ]);
      client = createClient(broker, backend, queue);
      replyClient = createClient(broker, backend, queue);
      sentIds = recordTaskIds(client);
    });

    after(async () => {
      const replyQueues = [client.broker.replyTo, replyClient.broker.replyTo];
      await client.disconnect();
      await replyClient.disconnect();
      await Promise.all([main.stop(), other.stop()]);
      if (transport === 'redis') {
        for (const name of queues) await dropQueue(redis, name);
        await redisCommand(redis, 'DEL', `_kombu.binding.${exchange}`, `_kombu.binding_permanent.${exchange}`);
        await dropResults(redis, [...sentIds, ...taskIds]);
      } else {
        await runPython('amqp_admin.py', [broker, 'delete', ...queues, exchange, ...replyQueues]);
      }
      if (redisKeys.length) await redisCommand(redis, 'DEL', ...redisKeys);
    });

    /** A link callback that stores its argument (the task's return value) in a fresh Redis key. */
    function remember() {
      const key = `cn-options-${randomUUID()}`;
      const taskId = randomUUID();
      redisKeys.push(key);
      taskIds.push(taskId);
      return { key, signature: client.signature('tasks.remember', [key], {}, { taskId }) };
    }

    const storedValue = async (key) => JSON.parse(await eventually(() => redisCommand(redis, 'GET', key), { timeout: GET_TIMEOUT }));

    it('puts each option where a Celery 5.7 worker reads it', async (t) => {
      const inspect = client.createTask('tasks.inspect');
      const second = Math.floor(Date.now() / 1000) * 1000;
      // Milliseconds .123: not a whole number of binary fractions of a second.
      const etaDate = new Date(second - 3_600_000 + 123); // past: the task runs at once
      const etaIso = '2021-06-01T14:00:00.123+02:00';
      const expiresDate = new Date(second + 3_600_000 + 123);
      const expiresIsoAt = new Date(second + 7_200_000 + 123);
      const expiresIso = new Date(expiresIsoAt.getTime() + 2 * 3_600_000).toISOString().replace('Z', '+02:00');
      const times = {}; // label → [text the worker saw, the Date meant]

      const rows = [
        ['taskId (applyAsync)', async () => {
          const taskId = randomUUID();
          const result = inspect.applyAsync([], {}, { taskId });
          assert.equal(result.taskId, taskId);
          const { request } = await result.get(GET_TIMEOUT);
          assert.equal(request.id, taskId);
          assert.equal(request.correlation_id, taskId);
          assert.equal(request.root_id, taskId);
        }],
        ['taskId (sendTask option; the taskId argument wins over it)', async () => {
          const [fromOption, fromArgument] = [randomUUID(), randomUUID()];
          const byOption = client.sendTask('tasks.inspect', [], {}, undefined, { taskId: fromOption });
          const byArgument = client.sendTask('tasks.inspect', [], {}, fromArgument, { taskId: randomUUID() });
          assert.equal(byOption.taskId, fromOption);
          assert.equal(byArgument.taskId, fromArgument);
          const [a, b] = await Promise.all([byOption.get(GET_TIMEOUT), byArgument.get(GET_TIMEOUT)]);
          assert.equal(a.request.id, fromOption);
          assert.equal(b.request.id, fromArgument);
        }],
        ['eta as a Date', async () => {
          const { request, message } = await inspect.applyAsync([], {}, { eta: etaDate }).get(GET_TIMEOUT);
          assert.match(message.headers.eta, CELERY_TIME);
          assertSameMillisecond(request.eta, etaDate, 'request.eta');
          times['eta (Date)'] = [request.eta, etaDate];
        }],
        ['eta as an ISO 8601 string with an offset', async () => {
          const { request, message } = await inspect.applyAsync([], {}, { eta: etaIso }).get(GET_TIMEOUT);
          assert.match(message.headers.eta, CELERY_TIME);
          assertSameMillisecond(request.eta, new Date(etaIso), 'request.eta');
          times['eta (ISO string)'] = [request.eta, new Date(etaIso)];
        }],
        ['expires as a Date', async () => {
          const sentAt = Date.now();
          const { request, message } = await inspect.applyAsync([], {}, { expires: expiresDate }).get(GET_TIMEOUT);
          assert.match(message.headers.expires, CELERY_TIME);
          assertSameMillisecond(request.expires, expiresDate, 'request.expires');
          // The TTL property (ms left, as a string), which RabbitMQ applies while it is queued.
          const ttl = Number(message.properties.expiration);
          assert.ok(ttl <= expiresDate.getTime() - sentAt && ttl > expiresDate.getTime() - sentAt - 10_000, `expiration ${message.properties.expiration}`);
          times['expires (Date)'] = [request.expires, expiresDate];
        }],
        ['expires as an ISO 8601 string with an offset', async () => {
          const sentAt = Date.now();
          const { request, message } = await inspect.applyAsync([], {}, { expires: expiresIso }).get(GET_TIMEOUT);
          assertSameMillisecond(request.expires, expiresIsoAt, 'request.expires');
          const ttl = Number(message.properties.expiration);
          assert.ok(ttl <= expiresIsoAt.getTime() - sentAt && ttl > expiresIsoAt.getTime() - sentAt - 10_000, `expiration ${message.properties.expiration}`);
          times['expires (ISO string)'] = [request.expires, expiresIsoAt];
        }],
        ['timeLimit alone', async () => {
          const { request } = await inspect.applyAsync([], {}, { timeLimit: 12.5 }).get(GET_TIMEOUT);
          assert.deepEqual(request.timelimit, [12.5, null]);
          assert.equal(request.time_limit, 12.5);
          assert.equal(request.soft_time_limit, null);
        }],
        ['softTimeLimit alone', async () => {
          const { request } = await inspect.applyAsync([], {}, { softTimeLimit: 7 }).get(GET_TIMEOUT);
          assert.deepEqual(request.timelimit, [null, 7]);
          assert.equal(request.time_limit, null);
          assert.equal(request.soft_time_limit, 7);
        }],
        ['shadow', async () => {
          const { request, message } = await inspect.applyAsync([], {}, { shadow: 'reports.daily' }).get(GET_TIMEOUT);
          assert.equal(message.headers.shadow, 'reports.daily');
          assert.equal(request.shadow, 'reports.daily');
          assert.equal(request.task, 'tasks.inspect');
        }],
        ['retries', async () => {
          const { request, message } = await inspect.applyAsync([], {}, { retries: 3 }).get(GET_TIMEOUT);
          assert.equal(message.headers.retries, 3);
          assert.equal(request.retries, 3);
        }],
        ['headers of every JSON type, as the task sees them', async () => {
          const headers = { 'x-text': 'é ✓', 'x-big': 2 ** 40, 'x-float': 2.5, 'x-flag': true, 'x-list': [1, 'two', null], 'x-object': { k: 'v', n: [false] } };
          const { request } = await inspect.applyAsync([], {}, { headers }).get(GET_TIMEOUT);
          assert.deepEqual(request.headers, headers); // Celery's "custom headers" of the request
        }],
        ...['zlib', 'gzip'].map((compression) => [`compression ${compression}`, async () => {
          const args = ['é'.repeat(2_000), { n: [1, 2] }];
          const seen = await inspect.applyAsync(args, {}, { compression }).get(GET_TIMEOUT);
          assert.equal(seen.message.headers.compression, 'application/x-gzip'); // kombu's name for both
          assert.equal(seen.message.content_type, 'application/json');
          assert.deepEqual(seen.args, args);
        }]),
        ['replyTo', async () => {
          // The rpc:// reply goes to the queue named there: here another client's reply queue.
          const replyTo = transport === 'amqp' ? replyClient.broker.replyTo : `cn-reply-${randomUUID()}`;
          if (transport === 'amqp') await replyClient.backend.isReady(); // consuming its reply queue
          const result = inspect.applyAsync([], {}, { replyTo });
          const reader = transport === 'amqp' ? replyClient.asyncResult(result.taskId) : result;
          const { request, message } = await reader.get(GET_TIMEOUT);
          assert.equal(message.properties.reply_to, replyTo);
          assert.equal(request.reply_to, replyTo);
          if (transport === 'amqp') assert.equal(await result.status(), null, "the sender's own reply queue got nothing");
        }],
        ['link', async () => {
          const { key, signature } = remember();
          const result = inspect.applyAsync([], {}, { link: signature });
          const { embed } = await result.get(GET_TIMEOUT);
          assert.equal(embed.callbacks.length, 1);
          const [callback] = embed.callbacks;
          assert.equal(callback.task, 'tasks.remember');
          assert.deepEqual(callback.args, [key]);
          assert.equal(callback.options.task_id, signature.options.taskId);
          assert.equal(callback.options.queue, queue); // the client's queue, not Celery's default
          // The worker ran it with the task's return value.
          assert.equal((await storedValue(key)).request.id, result.taskId);
        }],
        ['linkError', async () => {
          const errbackId = randomUUID();
          taskIds.push(errbackId);
          const { embed } = await inspect.applyAsync([], {}, { linkError: client.signature('tasks.mark_failed', [], {}, { taskId: errbackId }) }).get(GET_TIMEOUT);
          assert.equal(embed.errbacks.length, 1);
          assert.equal(embed.errbacks[0].task, 'tasks.mark_failed');
          assert.equal(embed.errbacks[0].options.task_id, errbackId);
          assert.equal(embed.callbacks, null);
          if (transport === 'redis') return; // canvas.test.js runs an errback over Redis
          // ...and a failing task has it run with its id.
          const ranErrbackId = randomUUID();
          taskIds.push(ranErrbackId);
          const failing = client.createTask('tasks.fail').applyAsync(['boom'], {}, { linkError: client.signature('tasks.mark_failed', [], {}, { taskId: ranErrbackId }) });
          redisKeys.push(`cn-failed-${failing.taskId}`);
          await assert.rejects(failing.get(GET_TIMEOUT), { message: 'FAILURE' });
          assert.equal(await eventually(() => redisCommand(redis, 'GET', `cn-failed-${failing.taskId}`), { timeout: GET_TIMEOUT }), '1');
        }],
        ['ignoreResult', async () => {
          // Nothing is stored, so the request is read from a link callback instead. That nothing is
          // stored is checked below, on a worker that runs one task at a time.
          const { key, signature } = remember();
          const result = inspect.applyAsync([], {}, { ignoreResult: true, link: signature });
          const { request, message } = await storedValue(key);
          assert.equal(request.id, result.taskId);
          assert.equal(message.headers.ignore_result, true);
          assert.equal(request.ignore_result, true);
        }],
      ];

      const running = rows.map(([name, check]) => [name, check()]);
      for (const [, promise] of running) promise.catch(() => {}); // each is awaited by its subtest
      for (const [name, promise] of running) await t.test(name, () => promise);

      await t.test('eta and expires keep the exact instant given, as a Python client writes it', async () => {
        await Promise.allSettled(running.map(([, promise]) => promise));
        const labels = ['eta (Date)', 'eta (ISO string)', 'expires (Date)', 'expires (ISO string)'];
        assert.deepEqual(labels.filter((label) => !times[label]), [], 'their rows failed');
        assert.deepEqual(
          labels.map((label) => `${label}: ${times[label][0]}`),
          labels.map((label) => `${label}: ${pythonIso(times[label][1])}`),
        );
      });
    });

    it('countdown and a future eta hold the task until then', async () => {
      const now = client.createTask('tasks.now');
      const sentAt = Date.now();
      const at = new Date(sentAt + 1500);
      const held = {
        'countdown 1.5': now.applyAsync([], {}, { countdown: 1.5 }),
        'eta Date': now.applyAsync([], {}, { eta: at }),
        'eta ISO string': now.applyAsync([], {}, { eta: at.toISOString() }),
      };
      const prompt = now.applyAsync([]);
      const promptRan = (await prompt.get(GET_TIMEOUT)) * 1000;
      for (const [label, result] of Object.entries(held)) {
        const ran = (await result.get(GET_TIMEOUT)) * 1000; // the worker's clock, which is ours
        assert.ok(ran >= sentAt + 1500 - 5, `${label}: ran ${ran - sentAt} ms after it was sent`);
        assert.ok(ran < sentAt + 1500 + 5000, `${label}: ran ${ran - sentAt} ms after it was sent`);
        assert.ok(promptRan < ran, `${label}: ran before a task sent after it without a delay`);
      }
    });

    it('an expires already past, or reached while the task waits for its countdown, ends it REVOKED', async () => {
      const now = client.createTask('tasks.now');
      const past = new Date(Date.now() - 60_000);
      const expired = {
        'a past Date': now.applyAsync([], {}, { expires: past }),
        'a past ISO string': now.applyAsync([], {}, { expires: past.toISOString() }),
        'negative seconds': now.applyAsync([], {}, { expires: -60 }),
        'expires 0.5 s, countdown 1 s': now.applyAsync([], {}, { countdown: 1, expires: 0.5 }),
      };
      for (const [label, result] of Object.entries(expired)) {
        const error = await result.get(GET_TIMEOUT).then(() => assert.fail(`${label}: an expired task ran`), (e) => e);
        assert.equal(error.message, 'REVOKED', label);
        assert.equal(error.code, 'ERR_CELERY_TASK_REVOKED', label);
        assert.equal(error.exc_type, 'TaskRevokedError', label);
        assert.deepEqual(error.exc_message, ['expired'], label);
      }
    });

    it('queue, and exchange + routingKey, reach the worker bound there and no other', async (t) => {
      const inspect = client.createTask('tasks.inspect');
      const seenWith = (options) => inspect.applyAsync([], {}, options).get(GET_TIMEOUT);
      await t.test('no option: the client\'s queue', async () => {
        const seen = await seenWith({});
        assert.ok(ranOn(seen, main), `ran on ${seen.request.hostname}`);
        assert.deepEqual([seen.request.delivery_info.exchange, seen.request.delivery_info.routing_key], ['', queue]);
      });
      await t.test('queue', async () => {
        const seen = await seenWith({ queue: otherQueue });
        assert.ok(ranOn(seen, other), `ran on ${seen.request.hostname}`);
        assert.deepEqual([seen.request.delivery_info.exchange, seen.request.delivery_info.routing_key], ['', otherQueue]);
      });
      await t.test('exchange + routingKey (control.test.js checks that it arrives; here: how)', async () => {
        const seen = await seenWith({ exchange, routingKey });
        assert.ok(ranOn(seen, other), `ran on ${seen.request.hostname}`);
        assert.deepEqual([seen.request.delivery_info.exchange, seen.request.delivery_info.routing_key], [exchange, routingKey]);
      });
      await t.test('routingKey without exchange: Celery publishes to the queue by its name', async () => {
        const seen = await seenWith({ queue: otherQueue, routingKey });
        assert.ok(ranOn(seen, other), `ran on ${seen.request.hostname}`);
        assert.deepEqual([seen.request.delivery_info.exchange, seen.request.delivery_info.routing_key], ['', otherQueue]);
      });
      await t.test('exchange without routingKey: Celery publishes to the queue by its name', async () => {
        // Celery 5.7 `send_task_message`: `if (not exchange or not routing_key) and exchange_type
        // == 'direct': exchange, routing_key = '', qname`, so the exchange is not used.
        const seen = await seenWith({ queue: otherQueue, exchange });
        assert.ok(ranOn(seen, other), `ran on ${seen.request.hostname}`);
        assert.deepEqual([seen.request.delivery_info.exchange, seen.request.delivery_info.routing_key], ['', otherQueue]);
      });
    });

    it(`priority orders queued tasks as ${transport === 'redis' ? "kombu's Redis buckets do (lower first)" : 'RabbitMQ does (higher first)'}; ignoreResult stores nothing`, async () => {
      const priorityQueue = uniqueQueue(`options-priority-${transport}`);
      queues.push(priorityQueue);
      const queueArguments = { 'x-max-priority': 10 };
      const priorityClient = createClient(broker, backend, priorityQueue);
      if (transport === 'amqp') priorityClient.conf.CELERY_BROKER_OPTIONS = { queueArguments };
      const recorded = recordTaskIds(priorityClient);
      const now = priorityClient.createTask('tasks.now');
      // [label, priority], sent in this order while no worker consumes the queue.
      const sends = transport === 'redis'
        ? [['p9', 9], ['p2', 2], ['p6', 6], ['none', undefined], ['p0', 0], ['p3', 3], ['p255', 255]]
        : [['p0', 0], ['p9', 9], ['none', undefined], ['p5', 5], ['p10', 10], ['p200', 200], ['p1', 1]];
      const expected = transport === 'redis'
        // kombu: 0–2 stay on the queue itself, 3–5, 6–8 and 9+ go to sub-lists read after it, in
        // that order; first in, first out within one list.
        ? ['p2', 'none', 'p0', 'p3', 'p6', 'p9', 'p255']
        // RabbitMQ: higher first, above x-max-priority counts as the maximum; FIFO within one.
        : ['p10', 'p200', 'p9', 'p5', 'p1', 'p0', 'none'];
      const results = sends.map(([label, priority]) => [label, now.applyAsync([], {}, priority === undefined ? {} : { priority })]);
      let worker;
      try {
        await Promise.all(results.map(([, result]) => result.sent));
        worker = await startWorker({
          broker, backend, queues: [priorityQueue], concurrency: 1,
          env: transport === 'amqp' ? { ...env(), CELERY_NATIVE_TEST_QUEUES: priorityQueue, CELERY_NATIVE_TEST_QUEUE_ARGUMENTS: JSON.stringify(queueArguments) } : env(),
        });
        const ran = await Promise.all(results.map(async ([label, result]) => [label, await result.get(GET_TIMEOUT)]));
        assert.deepEqual(ran.sort((a, b) => a[1] - b[1]).map(([label]) => label), expected);

        // One task at a time, in order: once the second has its result, the first has finished.
        const ignored = now.applyAsync([], {}, { ignoreResult: true });
        const stored = now.applyAsync([]);
        assert.equal(typeof (await stored.get(GET_TIMEOUT)), 'number');
        assert.equal(await ignored.status(), null);
        assert.equal(await ignored.result(), null);
      } finally {
        const replyQueue = priorityClient.broker.replyTo;
        await priorityClient.disconnect();
        if (worker) await worker.stop();
        if (transport === 'redis') await dropResults(redis, recorded);
        else await runPython('amqp_admin.py', [broker, 'delete', replyQueue]);
      }
    });

    if (transport === 'amqp') {
      it('an expires RabbitMQ cannot take (TTL over 10 years) fails that message alone', async () => {
        // RabbitMQ refuses a message whose `expiration` exceeds 315,360,000,000 ms by closing the
        // channel (406 PRECONDITION_FAILED, "invalid expiration"). In a child process, bounded in
        // time, so that a client that never settles cannot hold up this file.
        const refusedQueue = uniqueQueue('options-ttl');
        queues.push(refusedQueue);
        const source = `
          const { createClient } = require(${JSON.stringify(require.resolve('..'))});
          const client = createClient(process.env.BROKER, 'redis://127.0.0.1:1/0', process.env.QUEUE);
          client.on('error', () => {});
          const report = (label) => [
            () => console.log(JSON.stringify({ label, sent: true })),
            (e) => console.log(JSON.stringify({ label, code: e.code, message: e.message })),
          ];
          const add = client.createTask('tasks.add');
          add.applyAsync([1, 1], {}, { expires: 11 * 365 * 86400 }).sent.then(...report('refused'));
          add.applyAsync([2, 2]).sent.then(...report('next'));
        `;
        const child = spawn(process.execPath, ['-e', source], { env: { ...process.env, BROKER: broker, QUEUE: refusedQueue }, stdio: ['ignore', 'pipe', 'inherit'] });
        const outcomes = {};
        let stdout = '';
        child.stdout.setEncoding('utf8');
        const settled = new Promise((resolve) => {
          child.stdout.on('data', (chunk) => {
            stdout += chunk;
            for (const line of stdout.split('\n').slice(0, -1)) {
              const outcome = JSON.parse(line);
              outcomes[outcome.label] = outcome;
            }
            if (outcomes.refused && outcomes.next) resolve();
          });
        });
        let timer;
        const bound = new Promise((resolve) => (timer = setTimeout(resolve, 5_000)));
        try {
          await Promise.race([settled, once(child, 'exit'), bound]);
        } finally {
          clearTimeout(timer);
          if (child.exitCode === null && child.signalCode === null) {
            const exited = once(child, 'exit');
            child.kill('SIGKILL');
            await exited;
          }
        }
        assert.ok(outcomes.refused, 'the refused message never settled (5 s)');
        assert.equal(outcomes.refused.code, 'ERR_CELERY_PUBLISH_FAILED');
        assert.match(outcomes.refused.message, /expiration/);
        assert.deepEqual(outcomes.next, { label: 'next', sent: true });
      });
    }
  });
}
