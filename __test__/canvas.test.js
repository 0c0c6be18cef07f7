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

  it('refuses what it cannot send yet, synchronously', () => {
    assert.throws(() => chain(add.s(1, 1), group(add.s(1, 1), add.s(2, 2)), add.s(3)).applyAsync(), { code: 'ERR_CELERY_INVALID_OPTION' });
  });
});
