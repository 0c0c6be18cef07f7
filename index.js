'use strict';
// celery-native: celery-node's API over a Rust core. `require('celery-native')` and
// `import { createClient } from 'celery-native'` both work; the exports below are plain
// assignments so Node's ESM loader sees them by name.

Object.defineProperty(exports, '__esModule', { value: true });

const Client = require('./lib/client');
const Worker = require('./lib/worker');
const Task = require('./lib/task');
const { AsyncResult } = require('./lib/result');
const { defaultConf } = require('./lib/conf');
const { Signature, GroupResult, chain, group, chord } = require('./lib/canvas');
const { Retry, MaxRetriesExceededError, TimeLimitExceeded } = require('./lib/task-context');

function createClient(broker = 'amqp://', backend = 'amqp://', queue = 'celery', options = {}) {
  return new Client(broker, backend, queue, options);
}

function createWorker(broker = 'amqp://', backend = 'amqp://', queue = 'celery', options = {}) {
  return new Worker(broker, backend, queue, options);
}

exports.createClient = createClient;
exports.createWorker = createWorker;
exports.Client = Client;
exports.Worker = Worker;
exports.Task = Task;
exports.AsyncResult = AsyncResult;
exports.defaultConf = defaultConf;
exports.Signature = Signature;
exports.GroupResult = GroupResult;
exports.chain = chain;
exports.group = group;
exports.chord = chord;
exports.Retry = Retry;
exports.MaxRetriesExceededError = MaxRetriesExceededError;
exports.TimeLimitExceeded = TimeLimitExceeded;
