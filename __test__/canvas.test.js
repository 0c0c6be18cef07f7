'use strict';
// Canvas sent from Node and run by a real Python Celery 5.7 worker: chain, group, chord, a chain
// that becomes a chord, link and link_error.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { createClient, chain, group, chord, GroupResult } = require('..');
const { startWorker } = require('./support/worker');
const { uniqueQueue, dropQueue, recordTaskIds, dropResults, eventually, redisUrl, redisCommand } = require('./helpers');

describe('canvas, run by a Python worker', () => {
  let url;
  let queue;
  let worker;
  let client;
  let add;
  const ids = [];

  before(async () => {
    url = `${await redisUrl()}/0`;
    queue = uniqueQueue('canvas');
    worker = await startWorker({ broker: url, backend: url, queues: [queue], concurrency: 4 });
    client = createClient(url, url, queue);
    add = client.createTask('tasks.add');
  });

  after(async () => {
    await client.disconnect();
    await worker.stop();
    await dropQueue(url, queue);
    await dropResults(url, ids);
  });

  const track = (result) => {
    for (let r = result; r; r = r.parent) ids.push(r.taskId);
    if (result instanceof GroupResult) ids.push(...result.results.map((r) => r.taskId));
    return result;
  };

  it('runs a chain, each task receiving the previous result', async () => {
    const result = track(chain(add.s(2, 2), add.s(4), add.s(8)).applyAsync());
    assert.equal(await result.get(20_000), 16);
    assert.equal(await result.parent.get(20_000), 8);
    assert.equal(await result.parent.parent.get(20_000), 4);
    assert.equal(result.parent.parent.parent, undefined);
  });

  it('runs a group, values in group order', async () => {
    const result = track(group(Array.from({ length: 10 }, (_, i) => add.s(i, i))).applyAsync());
    assert.ok(result instanceof GroupResult);
    assert.deepEqual(await result.get(20_000), Array.from({ length: 10 }, (_, i) => 2 * i));
    assert.equal(await result.completedCount(), 10);
  });

  it('runs a chord: ten header tasks, then the body with their results', async () => {
    const tsum = client.createTask('tasks.tsum');
    const result = track(chord(Array.from({ length: 10 }, (_, i) => add.s(i, 1)), tsum.s()).applyAsync());
    await result.sent;
    assert.equal(await result.get(30_000), 55);
  });

  it('turns a group followed by a task inside a chain into a chord, as Python does', async () => {
    const tsum = client.createTask('tasks.tsum');
    const result = track(chain(group(add.s(1, 1), add.s(2, 2)), tsum.s()).applyAsync());
    assert.equal(await result.get(30_000), 6);
  });

  it('runs link on success and link_error on failure', async () => {
    const key = `cn-link-${Date.now()}`;
    const linked = track(add.applyAsync([1, 2], {}, { link: client.signature('tasks.remember', [key]) }));
    assert.equal(await linked.get(20_000), 3);
    assert.equal(await eventually(() => redisCommand(url, 'GET', key)), '3');
    const failing = track(client.createTask('tasks.fail').applyAsync(['boom'], {}, { linkError: client.signature('tasks.mark_failed') }));
    await assert.rejects(failing.get(20_000), { message: 'FAILURE' });
    await eventually(() => redisCommand(url, 'GET', `cn-failed-${failing.taskId}`));
    await redisCommand(url, 'DEL', key, `cn-failed-${failing.taskId}`);
  });

  it('runs the nestings Python allows: a chain ending with a group, a group then a task mid-chain, a group of chains, chains of chains', async () => {
    const tsum = client.createTask('tasks.tsum');
    const fanOut = track(chain(add.s(1, 1), group(add.s(1), add.s(2))).applyAsync());
    assert.ok(fanOut instanceof GroupResult);
    assert.deepEqual(await fanOut.get(30_000), [3, 4]);
    const midChord = track(chain(add.s(1, 1), group(add.s(1), add.s(2)), tsum.s()).applyAsync());
    assert.equal(await midChord.get(30_000), 7);
    const chains = track(group(chain(add.s(1, 1), add.s(1)), chain(add.s(2, 2), add.s(2))).applyAsync());
    assert.deepEqual(await chains.get(30_000), [3, 6]);
    const flattened = track(chain(chain(add.s(1, 1), add.s(1)), chain(add.s(1), add.s(1))).applyAsync());
    assert.equal(await flattened.get(30_000), 5);
    assert.equal(await flattened.parent.parent.parent.get(1000), 2);
  });

  it('refuses what it cannot send yet, synchronously', () => {
    // A chord followed by more steps: Python makes its body a chain.
    assert.throws(() => chain(group(add.s(1, 1), add.s(2, 2)), add.s(3), add.s(4)).applyAsync(), { code: 'ERR_CELERY_INVALID_OPTION' });
  });
});

describe('progress listeners', () => {
  for (const backendKind of ['redis', 'rpc']) {
    it(`over ${backendKind}: states() and onProgress() see every state, in order, then the result`, async () => {
      const redis = `${await redisUrl()}/0`;
      const broker = backendKind === 'redis' ? redis : await require('./support/services').amqpUrl();
      const backend = backendKind === 'redis' ? redis : 'rpc://';
      const queue = uniqueQueue(`progress-${backendKind}`);
      const worker = await startWorker({ broker, backend, queues: [queue], env: { CELERY_NATIVE_TEST_REDIS_URL: redis } });
      const client = createClient(broker, backend, queue);
      try {
        const startKey = `cn-start-${Date.now()}-${backendKind}`;
        const releaseKey = `cn-release-${Date.now()}-${backendKind}`;
        const result = client.createTask('tasks.progress_when_told').applyAsync([startKey, releaseKey, 3]);
        const heard = [];
        const stop = result.onProgress((meta) => heard.push(meta.status));
        const seen = [];
        for await (const meta of result.states()) {
          seen.push(meta.status === 'PROGRESS' ? `PROGRESS ${meta.result.current}/${meta.result.total}` : meta.status);
          if (meta.status === 'WAITING') {
            // Both listeners are subscribed once they have seen the task waiting.
            await eventually(() => heard.includes('WAITING'));
            await redisCommand(redis, 'SET', startKey, '1', 'EX', '60');
          }
          if (meta.status === 'PROGRESS' && meta.result.current === 3) await redisCommand(redis, 'SET', releaseKey, '1', 'EX', '60');
        }
        assert.deepEqual(seen, ['WAITING', 'PROGRESS 1/3', 'PROGRESS 2/3', 'PROGRESS 3/3', 'SUCCESS']);
        assert.equal(await result.get(10_000), 'done');
        await eventually(() => heard.at(-1) === 'SUCCESS');
        assert.deepEqual(heard, ['WAITING', 'PROGRESS', 'PROGRESS', 'PROGRESS', 'SUCCESS']);
        stop();
        await redisCommand(redis, 'DEL', startKey, releaseKey, `celery-task-meta-${result.taskId}`);
      } finally {
        await client.disconnect();
        await worker.stop();
        if (backendKind === 'redis') await dropQueue(redis, queue);
        else await require('./support/worker').runPython('amqp_admin.py', [broker, 'delete', queue]);
      }
    });
  }
});

describe('GroupResult save and restore', () => {
  it('saves a group Python can restore, and restores a group Python saved', async () => {
    const url = `${await redisUrl()}/0`;
    const client = createClient(url, url, uniqueQueue('groups'));
    const add = client.createTask('tasks.add');
    const mine = group(add.s(1, 1), add.s(2, 2)).applyAsync();
    await mine.save();
    const restoredInPython = JSON.parse(await require('./support/worker').runPython('-c', [
      'import json, sys; from tasks import app; from celery.result import GroupResult\n'
      + `g = GroupResult.restore(${JSON.stringify(mine.id)}, app=app); print(json.dumps([r.id for r in g.results]))`,
    ], { CELERY_BROKER_URL: url, CELERY_RESULT_BACKEND: url }));
    assert.deepEqual(restoredInPython, mine.results.map((r) => r.taskId));

    const savedByPython = (await require('./support/worker').runPython('-c', [
      'from tasks import app; from celery.result import GroupResult, AsyncResult\n'
      + "g = GroupResult('py-group-1', [AsyncResult('t-1', app=app), AsyncResult('t-2', app=app)], app=app); g.save(); print(g.id)",
    ], { CELERY_BROKER_URL: url, CELERY_RESULT_BACKEND: url })).trim();
    const theirs = await GroupResult.restore(client, savedByPython);
    assert.deepEqual(theirs.results.map((r) => r.taskId), ['t-1', 't-2']);
    assert.equal(await GroupResult.restore(client, 'no-such-group'), null);
    await redisCommand(url, 'DEL', `celery-taskset-meta-${mine.id}`, 'celery-taskset-meta-py-group-1');
    await dropQueue(url, client.conf.CELERY_QUEUE);
    await client.disconnect();
  });
});
