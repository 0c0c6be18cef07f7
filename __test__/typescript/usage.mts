// An ES module's view (checked by tsconfig.node16.json): Node's CommonJS interop makes the
// default import the whole `module.exports`, and TypeScript models it the same way.

import celery from 'celery-native';
import { createClient, AsyncResult } from 'celery-native';
import * as ns from 'celery-native';
import resultModule from 'celery-native/dist/app/result';
import clientModule from 'celery-native/dist/app/client';

const client: ns.Client = celery.createClient('redis://', 'redis://');
const same: typeof createClient = celery.createClient;
const r: AsyncResult = new resultModule.AsyncResult('id', client.backend);
const Client: typeof ns.Client = clientModule.default;
const status: Promise<string | null> = r.status();
console.log(same, Client, status, ns.defaultConf().CELERY_QUEUE);

// @ts-expect-error a deep default import of a CommonJS module is module.exports, not the class
new clientModule('redis://');
