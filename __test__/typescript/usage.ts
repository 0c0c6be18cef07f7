// User-style code compiled against the shipped declarations (never run). Written the way the
// celery-node README and real projects use the API; `@ts-expect-error` lines must stay errors.

import * as celery from 'celery-native';
import { createClient, createWorker, AsyncResult, Client, Task, Worker, defaultConf } from 'celery-native';
import type { CeleryBackend, CeleryBroker, CeleryConf, CeleryError, CeleryErrorCode, SendOptions } from 'celery-native';

// Deep imports, as celery-node users write them.
import ClientClass from 'celery-native/dist/app/client';
import TaskClass from 'celery-native/dist/app/task';
import WorkerClass from 'celery-native/dist/app/worker';
import Base from 'celery-native/dist/app/base';
import { AsyncResult as DeepAsyncResult } from 'celery-native/dist/app/result';
import { defaultConf as deepDefaultConf, CeleryConf as DeepCeleryConf } from 'celery-native/dist/app/conf';
import { newCeleryBackend, CeleryBackend as DeepCeleryBackend } from 'celery-native/dist/backends/index';
import RedisBackend from 'celery-native/dist/backends/redis';
import { newCeleryBroker, CeleryBroker as DeepCeleryBroker } from 'celery-native/dist/kombu/brokers/index';
import RedisBroker from 'celery-native/dist/kombu/brokers/redis';
import * as distIndex from 'celery-native/dist/index';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): void {}

async function readme(): Promise<void> {
  // README: client
  const client = celery.createClient('redis://', 'redis://');
  const task = client.createTask('tasks.add');
  const result = task.applyAsync([1, 2]);
  const value: any = await result.get();
  console.log(value);
  client.disconnect();

  // delay, get with timeout and interval
  const r2 = client.createTask('tasks.add').delay(1, 2);
  await r2.get(1000);
  await r2.get(1000, 100);
  await r2.get(undefined, 50);

  // kwargs and per-call options
  const r3 = task.applyAsync([1], { b: 2 }, { countdown: 10, queue: 'high', priority: 5 });
  const r4 = task.applyAsync([], {}, {
    eta: new Date(Date.now() + 60_000),
    expires: 3600,
    timeLimit: 30,
    softTimeLimit: 20,
    retries: 0,
    shadow: 'add(1, 2)',
    ignoreResult: false,
    headers: { tenant: 'acme' },
  });
  task.applyAsync(undefined, undefined, { expires: new Date() });
  task.applyAsync(null, null, { eta: '2030-01-01T00:00:00Z', expires: '2030-01-02T00:00:00Z' });
  task.applyAsync();

  // status / result / sent
  const status: string | null = await r3.status();
  if (status === 'SUCCESS') console.log(await r3.result());
  const sentId: string = await r4.sent;
  console.log(sentId.length, r4.taskId.toUpperCase());

  // sendTask with and without options
  const r5: AsyncResult = client.sendTask('tasks.add', [1, 2]);
  client.sendTask('tasks.add', [1, 2], { c: 3 }, 'my-task-id');
  client.sendTask('tasks.add', [1, 2], undefined, undefined, { queue: 'other', expires: 10 });
  client.sendTask('tasks.add', [], null, null, { countdown: 1 });
  const opts: SendOptions = { countdown: 5 };
  client.sendTask('tasks.add', [], {}, undefined, opts);

  // asyncResult / new AsyncResult(id, client.backend) from the deep import
  const again = client.asyncResult(r5.taskId);
  const deep = new DeepAsyncResult(r5.taskId, client.backend);
  const root: AsyncResult = deep;
  const r6: DeepAsyncResult = again;
  console.log(root, r6, deep instanceof AsyncResult);

  // A user-supplied backend
  const fakeBackend: CeleryBackend = {
    isReady: async () => undefined,
    disconnect: async () => undefined,
    storeResult: async () => undefined,
    getTaskMeta: async (id: string) => ({ status: 'SUCCESS', result: id }),
  };
  await new AsyncResult('x', fakeBackend).get();

  // Errors carry a code
  try {
    await r5.get(10);
  } catch (e) {
    const err = e as CeleryError;
    const code: string = err.code;
    if (err.code === 'ERR_CELERY_TIMEOUT') console.log(err.message, err.taskId);
    if (err.code === 'ERR_CELERY_TASK_FAILED') console.log(err.exc_type, err.exc_message, err.exc_module);
    console.log(code);
  }
  const known: CeleryErrorCode = 'ERR_CELERY_PUBLISH_FAILED';
  r5.sent.catch((err: CeleryError) => err.code === known);

  // The client is an EventEmitter; publish failures are 'error' events.
  client.on('error', (err) => console.error(err.code, err.taskId));
  client.once('error', (err: CeleryError) => err.message);
  client.on('something-else', (a: number, b: string) => a + b);

  // conf: plain, mutable, set before first use
  client.conf.CELERY_BROKER_OPTIONS = { password: 'secret', tls: { ca: 'PEM', checkServerIdentity: () => undefined } };
  client.conf.CELERY_BACKEND_OPTIONS = { db: 2, connectTimeout: 1000, someUnknownKey: true };
  client.conf.TASK_PROTOCOL = 1;
  client.conf.CELERY_QUEUE = 'other';
  const conf: CeleryConf = defaultConf();
  const conf2: DeepCeleryConf = deepDefaultConf();
  console.log(conf.CELERY_BROKER, conf2.TASK_PROTOCOL);

  // broker / backend getters, isReady, disconnect
  const broker: CeleryBroker = client.broker;
  const backend: DeepCeleryBackend = client.backend;
  const deepBroker: DeepCeleryBroker = broker;
  await client.isReady();
  await Promise.all([broker.isReady(), backend.isReady(), deepBroker.disconnect()]);
  const meta = await client.backend.getTaskMeta(r5.taskId);
  console.log(meta && meta.status);
  await client.disconnect();
}

// ReturnType<typeof createClient>, as TS users of celery-node write it
type CeleryClient = ReturnType<typeof createClient>;
class Service {
  constructor(private readonly client: CeleryClient) {}
  add(a: number, b: number): Promise<number> {
    return this.client.createTask('tasks.add').applyAsync([a, b]).get(5000);
  }
}
new Service(createClient('redis://localhost:6379/0', 'redis://localhost:6379/1', 'celery'));

// Root classes and deep default exports are the same classes.
assertType<Equal<CeleryClient, Client>>();
assertType<Equal<ClientClass, Client>>();
assertType<Equal<typeof ClientClass, typeof Client>>();
assertType<Equal<TaskClass, Task>>();
assertType<Equal<WorkerClass, Worker>>();
assertType<Equal<typeof DeepAsyncResult, typeof AsyncResult>>();
assertType<Equal<typeof distIndex.createClient, typeof createClient>>();
assertType<Equal<ReturnType<Task['delay']>, AsyncResult>>();
assertType<Equal<ReturnType<AsyncResult['status']>, Promise<string | null>>>();
assertType<Equal<AsyncResult['sent'], Promise<string>>>();
const c1: Base = new Client('redis://', 'redis://');
const c2: Client = new ClientClass('redis://', 'redis://', 'q');
const t1: Task = new TaskClass(c2, 'tasks.add');
console.log(c1 instanceof Base, t1.name, t1.client === c2);

// Subclassing, as forks do
class MyClient extends ClientClass {
  sendTwice(name: string): AsyncResult[] {
    return [this.sendTask(name), this.sendTask(name)];
  }
}
new MyClient().sendTwice('x');

// celery-node's Worker API (declared; this version's constructor throws ERR_CELERY_NOT_SUPPORTED)
function workerUsage(): void {
  const worker = createWorker('redis://', 'redis://');
  worker.register('tasks.add', (a: number, b: number) => a + b);
  worker.start();
  worker.whenCurrentJobsFinished().then(() => worker.disconnect());
}
console.log(workerUsage);

// Plumbing
const b = newCeleryBackend('redis://localhost', {});
const k = newCeleryBroker('redis://localhost', {}, 'celery');
const rb: CeleryBackend = new RedisBackend('redis://localhost');
const rk: CeleryBroker = new RedisBroker('redis://localhost', { password: 'x' });
new RedisBackend('redis://').disconnect().then((ok: 'OK') => ok);
console.log(b, k, rb, rk);

// Wrong usage is rejected.
function rejected(client: Client, result: AsyncResult): void {
  // @ts-expect-error timeout is a number of milliseconds
  result.get('x');
  // @ts-expect-error interval is a number too
  result.get(100, '50');
  // @ts-expect-error status() may resolve null
  result.status().then((s: string) => s);
  // @ts-expect-error taskId is a string
  const n: number = result.taskId;
  // @ts-expect-error sent is read-only
  result.sent = Promise.resolve('x');
  // @ts-expect-error createTask needs a name
  client.createTask();
  // @ts-expect-error args must be an array
  client.createTask('t').applyAsync('not-an-array');
  // @ts-expect-error kwargs must be an object
  client.createTask('t').applyAsync([], 42);
  // @ts-expect-error unknown option
  client.createTask('t').applyAsync([], {}, { countDown: 1 });
  // @ts-expect-error countdown is a number
  client.sendTask('t', [], {}, undefined, { countdown: '10' });
  // @ts-expect-error eta is a Date or a string
  client.sendTask('t', [], {}, undefined, { eta: 123 });
  // @ts-expect-error createClient takes strings
  createClient(6379);
  // @ts-expect-error TASK_PROTOCOL is a number
  client.conf.TASK_PROTOCOL = '2';
  // @ts-expect-error the broker getter is read-only
  client.broker = newCeleryBroker('redis://');
  // @ts-expect-error no default export on the package root
  console.log(celery.default);
  // @ts-expect-error Base is not exported by the package root (only by dist/app/base)
  console.log(celery.Base);
  // @ts-expect-error the Redis backend has no ioredis `redis` property in celery-native
  (client.backend as RedisBackend).redis.psubscribe('celery-task-meta-*');
  // @ts-expect-error AsyncResult needs a backend
  new AsyncResult('id');
  console.log(n);
}

export { readme, rejected };
