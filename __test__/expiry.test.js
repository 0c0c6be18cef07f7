'use strict';
// conf.RESULT_EXPIRES (Celery's result_expires, in seconds) where a client or a worker uses it:
// the TTL of Redis results, saved groups and chord keys, and the RPC reply queue's x-expires.

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { createClient, createWorker, chord, group } = require('..');
const { amqpUrl } = require('./support/services');
const { runPython } = require('./support/worker');
const { registerAll } = require('./support/node-tasks');
const { uniqueQueue, dropQueue, dropResults, rabbitmqctl, redisUrl, redisCommand } = require('./helpers');

describe('conf.RESULT_EXPIRES', () => {
  it('Redis: results a worker stores, saved groups and chord sizes live that long; 0 keeps them forever', async () => {
    const url = `${await redisUrl()}/6`;
    const queue = uniqueQueue('expiry');
    const worker = createWorker(url, url, queue);
    worker.conf.RESULT_EXPIRES = 600;
    registerAll(worker);
    worker.start();
    await worker.whenStarted();
    const client = createClient(url, url, queue);
    client.conf.RESULT_EXPIRES = 300;
    const result = client.createTask('node.add').delay(1, 2);
    assert.equal(await result.get(10_000), 3);
    const ttl = Number(await redisCommand(url, 'TTL', `celery-task-meta-${result.taskId}`));
    assert.ok(ttl > 590 && ttl <= 600, `result TTL ${ttl}`);

    const add = client.createTask('node.add');
    const g = group(add.s(1, 1), add.s(2, 2)).applyAsync();
    await g.save();
    const groupTtl = Number(await redisCommand(url, 'TTL', `celery-taskset-meta-${g.id}`));
    assert.ok(groupTtl > 290 && groupTtl <= 300, `group TTL ${groupTtl}`);
    const tsum = client.createTask('node.tsum');
    const body = chord([add.s(1, 1), add.s(2, 2)], tsum.s()).applyAsync();
    assert.equal(await body.get(10_000), 6);

    await client.backend._prepareChord('expiry-chord-300', 2);
    const chordTtl = Number(await redisCommand(url, 'TTL', 'celery-taskset-meta-expiry-chord-300.s'));
    assert.ok(chordTtl > 290 && chordTtl <= 300, `chord size TTL ${chordTtl}`);

    const never = createClient(url, url, 'not-consumed');
    never.conf.RESULT_EXPIRES = 0;
    await never.backend._prepareChord('expiry-chord', 2);
    assert.equal(Number(await redisCommand(url, 'TTL', 'celery-taskset-meta-expiry-chord.s')), -1);
    await redisCommand(url, 'DEL', 'celery-taskset-meta-expiry-chord.s', 'celery-taskset-meta-expiry-chord-300.s', `celery-taskset-meta-${g.id}`);

    await Promise.all([client.disconnect(), never.disconnect()]);
    await worker.stop();
    await dropQueue(url, queue);
    await dropResults(url, [result.taskId, body.taskId, ...g.results.map((r) => r.taskId)]);
  });

  it('rpc://: the reply queue expires after RESULT_EXPIRES, also beyond 32 bits of ms (a month)', async () => {
    const broker = await amqpUrl();
    const queue = uniqueQueue('expiry-rpc');
    for (const seconds of [600, 30 * 86_400]) {
      const client = createClient(broker, 'rpc://', queue);
      client.conf.RESULT_EXPIRES = seconds;
      await client.createTask('tasks.add').delay(1, 1).sent;
      const rows = (await rabbitmqctl('list_queues', '-q', 'name', 'arguments')).split('\n');
      const row = rows.find((line) => line.startsWith(client.broker.replyTo));
      assert.match(row, new RegExp(`x-expires.*\\b${seconds * 1000}\\b`));
      await client.disconnect();
    }
    await runPython('amqp_admin.py', [broker, 'delete', queue]);
  });
});
