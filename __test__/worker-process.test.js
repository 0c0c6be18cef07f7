'use strict';
// The Node worker as a process: SIGTERM is a graceful stop, and a worker killed with -9 in the
// middle of an acksLate task loses nothing (Redis: kombu's visibility timeout; RabbitMQ: the
// broker requeues what the dead connection held).

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { createClient } = require('..');
const { startNodeWorker } = require('./support/node-worker-process');
const { runPython } = require('./support/worker');
const { amqpUrl } = require('./support/services');
const { uniqueQueue, dropQueue, recordTaskIds, dropResults, redisUrl } = require('./helpers');

for (const transport of ['redis', 'amqp']) {
  describe(`Node worker process (${transport})`, () => {
    let redis;
    let broker;
    let queue;
    let client;
    let taskIds;

    before(async () => {
      redis = `${await redisUrl()}/7`;
      broker = transport === 'redis' ? redis : await amqpUrl();
      queue = uniqueQueue(`node-worker-process-${transport}`);
      client = createClient(broker, redis, queue);
      taskIds = recordTaskIds(client);
    });

    after(async () => {
      await client.disconnect();
      if (transport === 'redis') await dropQueue(redis, queue);
      else await runPython('amqp_admin.py', [broker, 'delete', queue]);
      await dropResults(redis, taskIds);
    });

    it('on SIGTERM, finishes and stores the three running tasks, then exits', async () => {
      const worker = await startNodeWorker({ broker, backend: redis, queue });
      const results = [700, 800, 900].map((ms) => client.createTask('node.sleep').applyAsync([ms]));
      await worker.waitFor(/Received task: node\.sleep/, 3);
      worker.kill('SIGTERM');
      assert.deepEqual(await worker.exited, { code: 0, signal: null });
      assert.deepEqual(await Promise.all(results.map((r) => r.status())), ['SUCCESS', 'SUCCESS', 'SUCCESS']);
      assert.deepEqual(await Promise.all(results.map((r) => r.get(1000))), [700, 800, 900]);
    });

    it('killed with -9 in the middle of an acksLate task: a new worker runs it again and stores it', async () => {
      const options = { acksLate: true, visibilityTimeout: 1 };
      const first = await startNodeWorker({ broker, backend: redis, queue, options });
      const result = client.createTask('node.sleep').applyAsync([1500]);
      await first.waitFor(/Received task: node\.sleep/);
      first.kill('SIGKILL');
      assert.equal((await first.exited).signal, 'SIGKILL');
      assert.equal(await result.status(), null, 'nothing was stored by the killed worker');

      const second = await startNodeWorker({ broker, backend: redis, queue, options });
      try {
        assert.equal(await result.get(20_000), 1500);
        assert.match(second.output(), new RegExp(`Received task: node\\.sleep\\[${result.taskId}\\]`));
      } finally {
        second.kill('SIGTERM');
        await second.exited;
      }
    });
  });
}
