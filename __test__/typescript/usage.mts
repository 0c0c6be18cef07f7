// An ES module's view (checked by tsconfig.node16.json): Node's CommonJS interop makes the
// default import the whole `module.exports`, and TypeScript models it the same way.

import celery from 'celery-native';
import { createClient, AsyncResult, chain, group, GroupResult } from 'celery-native';
import * as ns from 'celery-native';
import resultModule from 'celery-native/dist/app/result';
import clientModule from 'celery-native/dist/app/client';

const client: ns.Client = celery.createClient('redis://', 'redis://');
const same: typeof createClient = celery.createClient;
const r: AsyncResult = new resultModule.AsyncResult('id', client.backend);
const Client: typeof ns.Client = clientModule.default;
const status: Promise<string | null> = r.status();
console.log(same, Client, status, ns.defaultConf().CELERY_QUEUE);

// Canvas from an ES module: named imports and the default import's members.
const add = client.createTask('tasks.add');
const last: AsyncResult = chain(add.s(1, 1), add.s(2)).applyAsync();
const members: GroupResult = group(add.s(1, 1), add.s(2, 2)).applyAsync();
const body: AsyncResult = celery.chord([add.s(1, 1)], client.signature('tasks.tsum')).delay();
console.log(last.parent, members.results, body, new celery.Signature(client, 'tasks.add', [1]).immutable);

// Progress listeners, revoke and bulk sends from an ES module (top-level await).
for await (const meta of last.states()) console.log(meta.status, meta.result);
const stop = celery.createClient('redis://', 'redis://').asyncResult('id').onProgress((meta: ns.ResultMeta) => meta.task_id);
stop();
await client.revoke([last.taskId], { terminate: true });
const bulk: AsyncResult[] = client.sendTasks([{ name: 'tasks.add', args: [1, 2] }]);
console.log(bulk.length, client.createTask('tasks.add', { queue: 'urgent' }).defaultOptions);

// @ts-expect-error a deep default import of a CommonJS module is module.exports, not the class
new clientModule('redis://');
