// User-style code compiled against the shipped declarations (never run). Written the way the
// celery-node README and real projects use the API; `@ts-expect-error` lines must stay errors.

import * as celery from 'celery-native';
import { createClient, createWorker, AsyncResult, Client, Task, Worker, defaultConf } from 'celery-native';
import type { TaskContext } from 'celery-native';
import type { CeleryBackend, CeleryBroker, CeleryConf, CeleryError, CeleryErrorCode, SendOptions } from 'celery-native';
import { Signature, GroupResult, chain, group, chord } from 'celery-native';
import type { Canvas, Chain, Chord, Group, SignatureDict, SignatureOptions } from 'celery-native';
import type { BulkTask, ResultMeta, RevokeOptions } from 'celery-native';

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

// Canvas: chain, group, chord, link / linkError, as the Python calls they match
async function canvas(): Promise<void> {
  const client = createClient('redis://', 'redis://', 'jobs');
  const add = client.createTask('tasks.add');
  const tsum = client.createTask('tasks.tsum');

  // chain(add.s(2, 2), add.s(4), add.s(8)).apply_async()
  const last = chain(add.s(2, 2), add.s(4), add.s(8)).applyAsync();
  const sixteen: number = await last.get(20_000);
  let first: AsyncResult = last;
  while (first.parent) first = first.parent;
  await first.sent;
  console.log(sixteen, await last.parent?.get(), chain([add.s(1, 1), add.si(5)]).delay().taskId);

  // group(add.s(i, i) for i in range(10)).apply_async()
  const g: GroupResult = group(Array.from({ length: 10 }, (_, i) => add.s(i, i))).applyAsync();
  const values: any[] = await g.get(20_000, 100);
  const done: number = await g.completedCount();
  const ready: boolean = await g.ready();
  const groupId: string = await g.sent;
  console.log(values, done, ready, groupId === g.id, g.results.map((r) => r.taskId));
  group(add.s(1, 1), add.s(2, 2)).delay();

  // chord([add.s(i, 1) for i in range(10)], tsum.s()).apply_async(), and chord(group(...), body)
  const body = chord(Array.from({ length: 10 }, (_, i) => add.s(i, 1)), tsum.s()).applyAsync();
  await body.sent;
  const total: number = await body.get(30_000);
  const lastHeader: AsyncResult | undefined = body.parent;
  console.log(total, lastHeader, chord(group(add.s(1, 1), add.s(2, 2)), tsum.s()).delay());

  // chain(group(...), tsum.s()) is sent as a chord; chain(group(...)) as the group
  const viaChain: AsyncResult = chain(group(add.s(1, 1), add.s(2, 2)), tsum.s()).applyAsync();
  const onlyGroup: GroupResult = chain(group(add.s(1, 1))).applyAsync();
  console.log(viaChain, onlyGroup);

  // add.apply_async((1, 2), link=remember.s(key), link_error=mark_failed.s())
  const remember = client.signature('tasks.remember', ['my-key']);
  const linked = add.applyAsync([1, 2], {}, { link: remember, linkError: client.signature('tasks.mark_failed') });
  client.sendTask('tasks.add', [1, 2], {}, undefined, { link: [remember, add.si(0, 0)], taskId: 'id-1', queue: 'high' });
  console.log(await linked.get(20_000));

  // signature(...).set(...), apply_async / delay on a signature, Celery's dict
  const sig: Signature = add.s(1).set({ queue: 'high', countdown: 5, taskId: 'fixed-id', expires: 60, linkError: remember });
  const dict: SignatureDict = sig.toDict();
  const options: SignatureOptions = { priority: 3, timeLimit: 30, softTimeLimit: 20, ignoreResult: true, shadow: 's', headers: { a: 1 } };
  sig.applyAsync([2], { extra: true }, options);
  sig.delay(2);
  const made = new Signature(client, 'tasks.add', [1, 2], null, { queue: 'q' }, { immutable: true });
  console.log(dict.options.task_id, dict.subtask_type, made.immutable, made.task, made.client === client);

  // The composites' types
  const ch: Chain = chain(add.s(1, 1), add.s(2));
  const gr: Group = group([add.s(1, 1)]);
  const co: Chord = chord([add.s(1, 1)], tsum.s());
  const any: Canvas = Math.random() > 0.5 ? ch : Math.random() > 0.5 ? gr : co;
  console.log(ch.kind, gr.signatures.length, co.toDict().kwargs.header, any.client.conf.CELERY_QUEUE);
  assertType<Equal<ReturnType<Chain['applyAsync']>, AsyncResult>>();
  assertType<Equal<ReturnType<Chord['delay']>, AsyncResult>>();
  assertType<Equal<ReturnType<Group['applyAsync']>, GroupResult>>();
  assertType<Equal<typeof distIndex.chain, typeof chain>>();
  assertType<Equal<typeof celery.GroupResult, typeof GroupResult>>();
  await client.disconnect();
}

// Progress, revoke / forget, bulk sends and task defaults, as the Python calls they match
async function control(): Promise<void> {
  const client = createClient('redis://', 'redis://', 'jobs');
  const report = client.createTask('tasks.build_report');
  const result = report.delay(42);

  // result.get(on_message=callback): every state, pushed
  for await (const meta of result.states()) {
    const m: ResultMeta = meta;
    if (m.status === 'PROGRESS') console.log(m.result.current, m.result.total, m.task_id, m.date_done);
    if (m.status === 'FAILURE') console.log(m.result.exc_type, m.traceback, m.children.length);
  }
  const it: AsyncGenerator<ResultMeta, void, undefined> = result.states();
  await it.return();
  const stop: () => void = result.onProgress(
    (meta) => console.log(meta.status, meta.result),
    (error) => console.error(error.code),
  );
  stop();
  result.onProgress((meta: ResultMeta) => meta.status);

  // result.revoke(terminate=True, signal='SIGKILL'); app.control.revoke([ids]); result.forget()
  await result.revoke();
  await result.revoke({ terminate: true, signal: 'SIGKILL' });
  const revokeOptions: RevokeOptions = { terminate: false };
  const revoked: void = await client.revoke([result.taskId, 'other-id'], revokeOptions);
  await client.revoke(result.taskId);
  await result.forget();
  const maker: Client | undefined = result.client;
  console.log(revoked, maker === client);

  // bulk: a loop of app.send_task(...)
  const entries: BulkTask[] = [
    { name: 'tasks.add', args: [1, 2] },
    { name: 'tasks.add', args: [3, 4], kwargs: { c: 5 }, taskId: 'bulk-1', options: { queue: 'high', priority: 3 } },
    { name: 'tasks.echo' },
  ];
  const results: AsyncResult[] = client.sendTasks(entries);
  await Promise.all(results.map((r) => r.sent));

  // @app.task(queue='urgent', priority=7): defaults for every call; a call's options win
  const urgent = client.createTask('tasks.add', { queue: 'urgent', priority: 7, expires: 60 });
  urgent.delay(1, 1);
  urgent.applyAsync([2, 2], {}, { priority: 0, taskId: 'chosen-id', replyTo: 'my-replies' });
  const defaults: SendOptions | undefined = urgent.defaultOptions;
  const viaCtor = new Task(client, 'tasks.add', { countdown: 5 });
  console.log(defaults, viaCtor.defaultOptions, urgent.s(1).options.queue);
  add1(client.createTask('tasks.add', {}));
  await client.disconnect();
}
function add1(task: Task): AsyncResult {
  return task.applyAsync([1]);
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

// How values cross
const typed = createClient('redis://', 'redis://', 'celery', { decodeTypes: true, bigInt: true, dates: 'string' });
typed.options.bigInt = false;
typed.conf.TASK_ROUTES = [{ 'reports.*': { queue: 'reports', priority: 3 }, 'images.resize': 'gpu' }, (name: string) => (name.startsWith('x.') ? 'x' : null)];
// @ts-expect-error dates is 'datetime' or 'string'
createClient('redis://', 'redis://', 'celery', { dates: 'iso' });

// celery-node's Worker API, and what celery-native adds
function workerUsage(): void {
  const worker = createWorker('redis://', 'redis://');
  worker.register('tasks.add', (a: number, b: number) => a + b);
  worker.start();
  worker.whenCurrentJobsFinished().then(() => worker.disconnect());
  const limited = createWorker('redis://', 'redis://', 'q', { concurrency: 4, acksLate: true, handleSignals: true });
  limited.register('tasks.resize', async function resize(this: TaskContext, url: string) {
    await this.updateState('PROGRESS', { url });
    if (this.signal.aborted) this.retry({ countdown: 5 });
    return { id: this.id, retries: this.retries, url };
  });
  limited.on('task-succeeded', (context: TaskContext, value: unknown) => console.log(context.name, value));
  limited.whenStarted().then(() => limited.stop({ timeout: 10_000 }));
  // @ts-expect-error concurrency is a number
  createWorker('redis://', 'redis://', 'q', { concurrency: 'many' });
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
  // @ts-expect-error states() yields metas, not status strings
  (async () => { for await (const meta of result.states()) { const text: string = meta; console.log(text); } })();
  // @ts-expect-error revoke options are an object
  result.revoke(true);
  // @ts-expect-error the signal is a name such as 'SIGKILL'
  client.revoke('id', { signal: 9 });
  // @ts-expect-error result.client is read-only
  result.client = client;
  // @ts-expect-error each bulk entry needs a name
  client.sendTasks([{ args: [1] }]);
  // @ts-expect-error bulk entries are objects, not argument lists
  client.sendTasks([['tasks.add', [1, 2]]]);
  // @ts-expect-error task defaults are send options
  client.createTask('t', { countDown: 1 });
  console.log(n);
}

// Canvas misuse is rejected too.
function rejectedCanvas(client: Client): void {
  const add = client.createTask('tasks.add');
  // @ts-expect-error a chord's header is an array of signatures or a group
  chord(add.s(1, 1), add.s());
  // @ts-expect-error a group inside a chain is supported only first (followed by at most one task)
  chain(add.s(1, 1), group(add.s(1, 1), add.s(2, 2)), add.s(3));
  // @ts-expect-error groups hold task signatures, not chains
  group(chain(add.s(1, 1), add.s(2)));
  // @ts-expect-error eta is not an option a signature can carry
  add.s(1).set({ eta: new Date() });
  // @ts-expect-error a signature's expires is a number of seconds
  client.signature('tasks.add', [1], {}, { expires: new Date() });
  // @ts-expect-error link takes signatures, not task names
  add.applyAsync([1], {}, { link: 'tasks.echo' });
  // @ts-expect-error a GroupResult has no parent
  group(add.s(1, 1)).applyAsync().parent;
  // @ts-expect-error a group's result is a GroupResult, not an AsyncResult
  const r: AsyncResult = group(add.s(1, 1)).applyAsync();
  // @ts-expect-error chain(group) alone is sent as the group
  const r2: AsyncResult = chain(group(add.s(1, 1))).applyAsync();
  console.log(r, r2);
}

export { readme, rejected, canvas, rejectedCanvas, control };
