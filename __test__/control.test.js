'use strict';
// Remote control sent from Node and obeyed by real Python Celery 5.7 workers: revoke (over Redis
// and RabbitMQ), and forget.

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { createClient } = require('..');
const { amqpUrl } = require('./support/services');
const { startWorker, runPython } = require('./support/worker');
const { uniqueQueue, dropQueue, dropResults, redisUrl } = require('./helpers');

describe('revoke', () => {
  for (const transport of ['redis', 'amqp']) {
    it(`over ${transport}: a task revoked before it is due ends REVOKED`, async () => {
      const backend = `${await redisUrl()}/0`;
      const broker = transport === 'redis' ? backend : await amqpUrl();
      const queue = uniqueQueue(`revoke-${transport}`);
      const worker = await startWorker({ broker, backend, queues: [queue] });
      const client = createClient(broker, backend, queue);
      try {
        const doomed = client.createTask('tasks.add').applyAsync([1, 1], {}, { countdown: 4 });
        const spared = client.createTask('tasks.add').applyAsync([2, 2], {}, { countdown: 4 });
        await Promise.all([doomed.sent, spared.sent]);
        // A worker that has received the task is polling, and kombu registers the pidbox
        // subscription with the first poll: a revoke broadcast before then could be missed on
        // Redis (pub/sub keeps nothing for a subscriber that is not there yet).
        await worker.waitForOutput(`[${doomed.taskId}] received`);
        await doomed.revoke();
        const error = await doomed.get(30_000).then(() => assert.fail('a revoked task must not succeed'), (e) => e);
        assert.equal(error.message, 'REVOKED');
        assert.equal(error.code, 'ERR_CELERY_TASK_REVOKED');
        assert.equal(error.exc_type, 'TaskRevokedError');
        assert.equal(await spared.get(30_000), 4);
        await dropResults(backend, [doomed.taskId, spared.taskId]);
        await client.disconnect();
        await assert.rejects(client.revoke(doomed.taskId), { code: 'ERR_CELERY_DISCONNECTED' });
      } finally {
        await client.disconnect();
        await worker.stop();
        if (transport === 'redis') await dropQueue(backend, queue);
        else await runPython('amqp_admin.py', [broker, 'delete', queue]);
      }
    });
  }
});

describe('forget', () => {
  it('deletes a stored result', async () => {
    const url = `${await redisUrl()}/0`;
    const client = createClient(url, url);
    const result = client.asyncResult(require('node:crypto').randomUUID());
    await client.backend.storeResult(result.taskId, 7, 'SUCCESS');
    assert.equal(await result.get(1000), 7);
    await result.forget();
    assert.equal(await result.status(), null);
    await client.disconnect();
  });
});

describe('routing through a named exchange', () => {
  const cases = [
    { type: 'direct', bindingKey: 'reports.daily', routed: 'reports.daily', unbound: 'reports.weekly' },
    { type: 'topic', bindingKey: 'reports.*', routed: 'reports.monthly', unbound: 'reports.monthly.pdf' },
  ];
  for (const transport of ['redis', 'amqp']) {
    for (const { type, bindingKey, routed: routedKey, unbound } of cases) {
      it(`over ${transport}, ${type} exchange: exchange + routingKey reach the queue bound there; an unbound key is reported`, async () => {
        const backend = `${await redisUrl()}/0`;
        const broker = transport === 'redis' ? backend : await amqpUrl();
        const queue = uniqueQueue(`routed-${transport}-${type}`);
        const exchange = `${queue}-exchange`;
        const worker = await startWorker({
          broker, backend, queues: [queue],
          env: {
            CELERY_NATIVE_TEST_QUEUES: queue,
            CELERY_NATIVE_TEST_QUEUE_EXCHANGE: exchange,
            CELERY_NATIVE_TEST_QUEUE_EXCHANGE_TYPE: type,
            CELERY_NATIVE_TEST_QUEUE_ROUTING_KEY: bindingKey,
          },
        });
        const client = createClient(broker, backend, 'not-consumed-here');
        try {
          const routed = client.createTask('tasks.add').applyAsync([20, 22], {}, { exchange, routingKey: routedKey });
          assert.equal(await routed.get(30_000), 42);
          const lost = client.createTask('tasks.add').applyAsync([1, 1], {}, { exchange, routingKey: unbound });
          await assert.rejects(lost.sent, { code: 'ERR_CELERY_UNROUTABLE' });
          await dropResults(backend, [routed.taskId]);
        } finally {
          await client.disconnect();
          await worker.stop();
          if (transport === 'redis') {
            await dropQueue(backend, queue);
            await require('./helpers').redisCommand(backend, 'DEL', `_kombu.binding.${exchange}`, `_kombu.binding_permanent.${exchange}`);
          } else {
            await runPython('amqp_admin.py', [broker, 'delete', queue, exchange]);
          }
        }
      });
    }
  }
});
