'use strict';
// The Node worker across broker connection loss: it reconnects by itself and runs what is sent
// afterwards (Redis restarted; RabbitMQ connections closed by the operator).

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { randomUUID } = require('node:crypto');
const { createClient, createWorker } = require('..');
const { runPython } = require('./support/worker');
const { amqpUrl } = require('./support/services');
const { registerAll } = require('./support/node-tasks');
const { uniqueQueue, closeAmqpConnections, restartableRedis, redisUrl, dropResults } = require('./helpers');

describe('Node worker across connection loss', () => {
  it('Redis: keeps consuming after the server restarts', async () => {
    const redis = await restartableRedis();
    const queue = uniqueQueue('worker-restart');
    const worker = createWorker(redis.url, redis.url, queue);
    registerAll(worker);
    worker.start();
    await worker.whenStarted();
    const client = createClient(redis.url, redis.url, queue);
    assert.equal(await client.createTask('node.add').delay(1, 2).get(10_000), 3);

    await redis.stop();
    await redis.start();
    assert.equal(await client.createTask('node.add').delay(3, 4).get(20_000), 7);

    await client.disconnect();
    await worker.stop();
    await redis.dispose();
  });

  it('RabbitMQ: keeps consuming after its connections are closed', async () => {
    const broker = await amqpUrl();
    const backend = `${await redisUrl()}/6`;
    const queue = uniqueQueue('worker-amqp-loss');
    const connectionName = `celery-native-worker-${randomUUID()}`;
    const worker = createWorker(broker, backend, queue);
    worker.conf.CELERY_BROKER_OPTIONS = { connectionName };
    registerAll(worker);
    worker.start();
    await worker.whenStarted();
    const client = createClient(broker, backend, queue);
    const first = client.createTask('node.add').delay(1, 2);
    assert.equal(await first.get(10_000), 3);

    assert.ok((await closeAmqpConnections(connectionName)) >= 1);
    const second = client.createTask('node.add').delay(3, 4);
    assert.equal(await second.get(20_000), 7);

    await client.disconnect();
    await worker.stop();
    await runPython('amqp_admin.py', [broker, 'delete', queue]);
    await dropResults(backend, [first.taskId, second.taskId]);
  });
});
