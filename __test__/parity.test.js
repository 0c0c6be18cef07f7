'use strict';
// The same scenarios through celery-node and celery-native, against one real Python worker:
// what a user can observe must be the same.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { randomUUID } = require('node:crypto');
const celeryNode = require('celery-node');
const celeryNative = require('..');
const { startWorker } = require('./support/worker');
const { uniqueQueue, dropQueue, recordTaskIds, dropResults, redisUrl } = require('./helpers');

/** What a user sees of a get(): the value, or the error's message and result keys. */
async function outcome(promise) {
  try {
    return { value: await promise };
  } catch (error) {
    return { message: error.message, exc_type: error.exc_type, exc_message: error.exc_message, exc_module: error.exc_module };
  }
}

async function scenarios(client) {
  const add = client.createTask('tasks.add');
  const echo = client.createTask('tasks.echo');
  return {
    add: await outcome(add.applyAsync([2, 3]).get(20_000)),
    delay: await outcome(add.delay(4, 5).get(20_000)),
    kwargs: await outcome(echo.applyAsync([1, 'é'], { n: { deep: [1.5, null, true] } }).get(20_000)),
    failure: await outcome(client.createTask('tasks.fail').delay('boom').get(20_000)),
    unknownStatus: await client.asyncResult(randomUUID()).status(),
    unknownResult: await client.asyncResult(randomUUID()).result(),
    timeout: await outcome(client.createTask('tasks.sleep').delay(1, 'late').get(300)),
    protocol1: await (async () => {
      client.conf.TASK_PROTOCOL = 1;
      const r = add.applyAsync([10, 20]);
      client.conf.TASK_PROTOCOL = 2;
      return outcome(r.get(20_000));
    })(),
  };
}

describe('parity with celery-node', () => {
  let url;
  let queue;
  let worker;
  const taskIds = [];

  before(async () => {
    url = `${await redisUrl()}/0`;
    queue = uniqueQueue('parity');
    worker = await startWorker({ broker: url, backend: url, queues: [queue], concurrency: 4 });
  });

  after(async () => {
    await worker.stop(); // a warm shutdown lets the slow task finish and store its result
    await dropQueue(url, queue);
    await dropResults(url, taskIds);
  });

  it('gives the same observable results for the same calls', async () => {
    const original = celeryNode.createClient(url, url, queue);
    const ours = celeryNative.createClient(url, url, queue);
    const sentByOriginal = recordTaskIds(original);
    const sentByOurs = recordTaskIds(ours);
    const expected = await scenarios(original);
    const actual = await scenarios(ours);
    await original.disconnect();
    await ours.disconnect();
    taskIds.push(...sentByOriginal, ...sentByOurs);
    assert.deepEqual(expected.add, { value: 5 }); // the scenarios really ran
    assert.deepEqual(actual, expected);
  });
});
