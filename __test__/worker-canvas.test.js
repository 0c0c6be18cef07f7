'use strict';
// Canvas across both kinds of worker: chord headers run by the Node worker with the body run by
// a Python worker, the reverse, and a chain that alternates. The Node worker does Celery 5.7's
// Redis chord counting, so either side may complete a chord.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { createClient, createWorker, chain, chord, group, GroupResult } = require('..');
const { startWorker } = require('./support/worker');
const { registerAll } = require('./support/node-tasks');
const { uniqueQueue, dropQueue, dropResults, redisUrl } = require('./helpers');

describe('canvas across the Node and the Python worker', () => {
  let url;
  let pyQueue;
  let nodeQueue;
  let python;
  let node;
  let client;
  const ids = [];

  before(async () => {
    url = `${await redisUrl()}/8`;
    pyQueue = uniqueQueue('canvas-py');
    nodeQueue = uniqueQueue('canvas-node');
    python = await startWorker({ broker: url, backend: url, queues: [pyQueue], concurrency: 4 });
    node = createWorker(url, url, nodeQueue);
    registerAll(node);
    node.start();
    await node.whenStarted();
    client = createClient(url, url, nodeQueue);
  });

  after(async () => {
    await client.disconnect();
    await node.stop();
    await python.stop();
    await dropQueue(url, pyQueue);
    await dropQueue(url, nodeQueue);
    await dropResults(url, ids);
  });

  const onNode = (name, ...args) => client.signature(name, args, {}, { queue: nodeQueue });
  const onPython = (name, ...args) => client.signature(name, args, {}, { queue: pyQueue });
  const track = (result) => {
    for (let r = result; r; r = r.parent) ids.push(r.taskId);
    if (result instanceof GroupResult) ids.push(...result.results.map((r) => r.taskId));
    return result;
  };

  it('a chord with ten header tasks in the Node worker and the body in Python', async () => {
    const header = Array.from({ length: 10 }, (_, i) => onNode('node.add', i, 1));
    const result = track(chord(header, onPython('tasks.tsum')).applyAsync());
    assert.equal(await result.get(30_000), 55);
  });

  it('a chord with ten header tasks in Python and the body in the Node worker', async () => {
    const header = Array.from({ length: 10 }, (_, i) => onPython('tasks.add', i, i));
    const result = track(chord(header, onNode('node.tsum')).applyAsync());
    assert.equal(await result.get(30_000), 90);
  });

  it('a chain that goes Node → Python → Node', async () => {
    const result = track(chain(onNode('node.add', 2, 3), onPython('tasks.add', 10), onNode('node.mul', 2)).applyAsync());
    assert.equal(await result.get(30_000), 30);
    assert.equal(await result.parent.get(1000), 15);
  });

  it('nested canvases run by the Node worker alone: it sends the group and chord steps itself', async () => {
    const fanOut = track(chain(onNode('node.add', 1, 1), group(onNode('node.add', 1), onNode('node.add', 2))).applyAsync());
    assert.deepEqual(await fanOut.get(30_000), [3, 4]);
    const midChord = track(chain(onNode('node.add', 1, 1), group(onNode('node.add', 1), onNode('node.add', 2)), onNode('node.tsum')).applyAsync());
    assert.equal(await midChord.get(30_000), 7);
    const chains = track(group(chain(onNode('node.add', 1, 1), onNode('node.add', 1)), chain(onNode('node.add', 2, 2), onPython('tasks.add', 2))).applyAsync());
    assert.deepEqual(await chains.get(30_000), [3, 6]);
  });

  it('a failing Node header task fails the body with ChordError', async () => {
    const header = [onNode('node.add', 1, 1), onNode('node.fail', 'header broke'), onNode('node.add', 2, 2)];
    const result = track(chord(header, onPython('tasks.tsum')).applyAsync());
    const error = await result.get(30_000).then(() => null, (e) => e);
    assert.equal(error.message, 'FAILURE');
    assert.equal(error.exc_type, 'ChordError');
    assert.match(error.exc_message[0], /^Dependency .+ raised TypeError\("header broke"\)$/);
  });
});
