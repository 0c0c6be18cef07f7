// The package from ES modules: named, namespace and default imports of the root, and
// celery-node's deep-import paths. Nothing here connects: clients are created but their broker
// and backend are never touched.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

import { createClient, createWorker, AsyncResult, Client, Task, Worker, defaultConf } from 'celery-native';
import * as celery from 'celery-native';
import celeryDefault from 'celery-native';
import { AsyncResult as DeepAsyncResult } from 'celery-native/dist/app/result';
import { AsyncResult as DeepAsyncResultJs } from 'celery-native/dist/app/result.js';
import clientModule from 'celery-native/dist/app/client';
import taskModule from 'celery-native/dist/app/task';
import workerModule from 'celery-native/dist/app/worker';
import baseModule from 'celery-native/dist/app/base';
import { defaultConf as deepDefaultConf } from 'celery-native/dist/app/conf';
import { newCeleryBackend } from 'celery-native/dist/backends/index';
import redisBackendModule from 'celery-native/dist/backends/redis';
import { newCeleryBroker } from 'celery-native/dist/kombu/brokers/index';
import redisBrokerModule from 'celery-native/dist/kombu/brokers/redis';
import * as distIndex from 'celery-native/dist/index';

const require = createRequire(import.meta.url);
const cjs = require('celery-native');

/** A backend that answers from memory, so results can be read without Redis. */
function memoryBackend(metas) {
  const calls = [];
  return {
    calls,
    isReady: async () => undefined,
    disconnect: async () => undefined,
    storeResult: async () => undefined,
    getTaskMeta: async (taskId) => {
      calls.push(taskId);
      return metas[taskId] ?? null;
    },
  };
}

describe('ESM imports of celery-native', () => {
  it('named imports are the CommonJS exports', () => {
    assert.equal(typeof createClient, 'function');
    assert.equal(typeof createWorker, 'function');
    assert.equal(typeof defaultConf, 'function');
    assert.equal(createClient, cjs.createClient);
    assert.equal(AsyncResult, cjs.AsyncResult);
    assert.equal(Client, cjs.Client);
    assert.equal(Task, cjs.Task);
    assert.equal(Worker, cjs.Worker);
  });

  it('import * as celery sees every export', () => {
    for (const name of ['createClient', 'createWorker', 'Client', 'Worker', 'Task', 'AsyncResult', 'defaultConf']) {
      assert.equal(celery[name], cjs[name], name);
    }
    assert.equal(celery.default, cjs, 'namespace.default is module.exports');
  });

  it('the default import is module.exports', () => {
    assert.equal(celeryDefault, cjs);
    assert.equal(celeryDefault.createClient, createClient);
    assert.equal(cjs.__esModule, true);
  });

  it('createClient connects to nothing and returns a Client', () => {
    const client = celeryDefault.createClient('redis://127.0.0.1:1/0', 'redis://127.0.0.1:1/1', 'q');
    assert.ok(client instanceof Client);
    assert.deepEqual(client.conf, {
      ...defaultConf(),
      CELERY_BROKER: 'redis://127.0.0.1:1/0',
      CELERY_BACKEND: 'redis://127.0.0.1:1/1',
      CELERY_QUEUE: 'q',
    });
    const task = client.createTask('tasks.add');
    assert.ok(task instanceof Task);
    assert.equal(task.name, 'tasks.add');
    assert.equal(task.client, client);
    assert.equal(typeof client.on, 'function', 'the client is an EventEmitter');
  });

  it('default arguments, as celery-node', () => {
    const client = createClient();
    assert.equal(client.conf.CELERY_BROKER, 'amqp://');
    assert.equal(client.conf.CELERY_BACKEND, 'amqp://');
    assert.equal(client.conf.CELERY_QUEUE, 'celery');
    assert.equal(client.conf.TASK_PROTOCOL, 2);
  });

  it('deep imports give the same classes as the root', () => {
    assert.equal(DeepAsyncResult, AsyncResult);
    assert.equal(DeepAsyncResultJs, AsyncResult);
    // Node's CommonJS interop: a deep default import is module.exports; `.default` is the class.
    assert.equal(clientModule.default, Client);
    assert.equal(taskModule.default, Task);
    assert.equal(workerModule.default, Worker);
    assert.equal(typeof baseModule.default, 'function');
    assert.ok(Client.prototype instanceof baseModule.default);
    assert.equal(deepDefaultConf, defaultConf);
    assert.equal(typeof newCeleryBackend, 'function');
    assert.equal(typeof newCeleryBroker, 'function');
    assert.equal(typeof redisBackendModule.default, 'function');
    assert.equal(typeof redisBrokerModule.default, 'function');
    assert.equal(distIndex.createClient, createClient);
    assert.equal(distIndex.AsyncResult, AsyncResult);
  });

  it('new AsyncResult(id, backend) from the deep import reads any backend', async () => {
    const backend = memoryBackend({ done: { status: 'SUCCESS', result: 42 } });
    const done = new DeepAsyncResult('done', backend);
    assert.ok(done instanceof AsyncResult);
    assert.equal(done.taskId, 'done');
    assert.equal(done.backend, backend);
    assert.equal(await done.sent, 'done');
    assert.equal(await done.status(), 'SUCCESS');
    assert.equal(await done.result(), 42);
    assert.equal(await done.get(), 42);
    assert.deepEqual(backend.calls, ['done'], 'a final meta is cached');

    const pending = new AsyncResult('pending', backend);
    assert.equal(await pending.status(), null);
    assert.equal(await pending.result(), null);
    await assert.rejects(pending.get(30, 10), (error) => error.message === 'TIMEOUT' && error.code === 'ERR_CELERY_TIMEOUT');
  });

  it('errors carry a code', () => {
    const client = createClient('http://example.com', 'redis://');
    assert.throws(() => client.createTask('t').applyAsync('nope'), { message: 'args is not array', code: 'ERR_CELERY_INVALID_ARGUMENT' });
    assert.throws(() => client.broker, { message: 'Unsupported type: http', code: 'ERR_CELERY_UNSUPPORTED_SCHEME' });
  });
});
