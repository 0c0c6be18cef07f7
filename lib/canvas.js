'use strict';
// Canvas: signatures and the chain / group / chord composites, built as the signature dicts
// Celery itself sends. Planning (ids, reversed chains, frozen chord bodies) happens natively,
// in src/protocol/canvas.rs; this file only shapes the dicts and tracks the results.

const { AsyncResult } = require('./result');
const { callNative, celeryError } = require('./errors');
const { toJson } = require('./json-arguments');
const { routeOptions } = require('./routes');

/** camelCase option names → Celery's `apply_async` names inside a signature's options. */
const OPTION_NAMES = {
  taskId: 'task_id', queue: 'queue', countdown: 'countdown', priority: 'priority', expires: 'expires',
  timeLimit: 'time_limit', softTimeLimit: 'soft_time_limit', ignoreResult: 'ignore_result',
  shadow: 'shadow', headers: 'headers', link: 'link', linkError: 'link_error', replyTo: 'reply_to', compression: 'compression',
};

function celeryOptions(options = {}) {
  const out = {};
  for (const [key, value] of Object.entries(options)) {
    const name = OPTION_NAMES[key];
    if (!name) throw celeryError('ERR_CELERY_INVALID_OPTION', `invalid option ${key}: not supported in a signature`, TypeError);
    if (value === undefined) continue;
    out[name] = name === 'link' || name === 'link_error' ? [].concat(value).map(toDict) : value;
  }
  return out;
}

function toDict(signature) {
  if (signature && typeof signature.toDict === 'function') return signature.toDict();
  throw celeryError('ERR_CELERY_INVALID_ARGUMENT', 'expected a signature (task.s(...), chain(...), group(...), chord(...))', TypeError);
}

/** What a canvas is sent with: the client of its first signature. */
function clientOf(signatures) {
  for (const signature of signatures) {
    const client = signature.client || (signature.signatures && clientOf(signature.signatures));
    if (client) return client;
  }
  throw celeryError('ERR_CELERY_INVALID_ARGUMENT', 'a canvas needs at least one signature made from a client');
}

class Signature {
  constructor(client, task, args = [], kwargs = {}, options = {}, { immutable = false } = {}) {
    if (!Array.isArray(args)) throw celeryError('ERR_CELERY_INVALID_ARGUMENT', 'args is not array');
    this.client = client;
    this.task = task;
    this.args = args;
    this.kwargs = kwargs || {};
    this.options = { ...options };
    this.immutable = immutable;
  }

  /** Adds options (camelCase, as applyAsync's); returns the signature, as Python's `.set()`. */
  set(options) {
    Object.assign(this.options, options);
    return this;
  }

  toDict() {
    return {
      task: this.task,
      args: this.args,
      kwargs: this.kwargs,
      options: celeryOptions(this.options),
      subtask_type: null,
      immutable: this.immutable,
    };
  }

  /** Sends the task; extra args are appended, as Python's partial application does. */
  applyAsync(args = [], kwargs = {}, options = {}) {
    return new Signature(this.client, this.task, [...this.args, ...args], { ...this.kwargs, ...kwargs }, { ...this.options, ...options }).send();
  }

  delay(...args) {
    return this.applyAsync(args);
  }

  send() {
    return sendCanvas(this.client, this.toDict());
  }
}

class Composite {
  constructor(kind, signatures, extra = {}) {
    this.kind = kind;
    this.signatures = signatures;
    this.extra = extra;
  }

  get client() {
    return clientOf(this.signatures);
  }

  toDict() {
    const kwargs = this.kind === 'chord'
      ? { kwargs: {}, header: this.signatures.slice(0, -1).map(toDict), body: toDict(this.signatures.at(-1)) }
      : { tasks: this.signatures.map(toDict) };
    return { task: `celery.${this.kind}`, args: [], kwargs, options: {}, subtask_type: this.kind, immutable: false };
  }

  applyAsync() {
    return sendCanvas(this.client, this.toDict());
  }

  delay() {
    return this.applyAsync();
  }
}

/** Tasks run one after another, each receiving the previous result (Python's `chain`). */
function chain(...signatures) {
  return new Composite('chain', signatures.flat());
}

/** Tasks run in parallel; results in group order (Python's `group`). */
function group(...signatures) {
  return new Composite('group', signatures.flat());
}

/** A group whose results, in order, are passed to `body` once all finished (Python's `chord`). */
function chord(header, body) {
  if (!Array.isArray(header) && !(header instanceof Composite && header.kind === 'group')) {
    throw celeryError('ERR_CELERY_INVALID_ARGUMENT', 'chord(header, body): header must be a list of signatures or a group', TypeError);
  }
  const members = Array.isArray(header) ? header : header.signatures;
  return new Composite('chord', [...members, body]);
}

/** The results of a group: one AsyncResult per member, in order. */
class GroupResult {
  constructor(id, results) {
    this.id = id;
    this.results = results;
  }

  /**
   * Every member's value, in group order. Rejects with the first failure; with
   * `{ propagate: false }` a failed member's error takes its place instead.
   */
  get(timeout, interval, { propagate = true } = {}) {
    const values = this.results.map((result) => result.get(timeout, interval));
    return Promise.all(propagate ? values : values.map((value) => value.catch((error) => error)));
  }

  async completedCount() {
    const states = await Promise.all(this.results.map((result) => result.status()));
    return states.filter((state) => state === 'SUCCESS').length;
  }

  async ready() {
    const states = await Promise.all(this.results.map((result) => result.status()));
    return states.every((state) => state === 'SUCCESS' || state === 'FAILURE' || state === 'REVOKED');
  }

  get sent() {
    return Promise.all(this.results.map((result) => result.sent)).then(() => this.id);
  }

  /** Stores the group so that `GroupResult.restore` (here or in Python) finds it (Redis). */
  async save() {
    const backend = this.results.length > 0 ? this.results[0].backend : null;
    if (!backend || typeof backend._saveGroup !== 'function') {
      throw celeryError('ERR_CELERY_INVALID_OPTION', 'saving a group needs the Redis result backend');
    }
    await backend._saveGroup(this.id, this.results.map((result) => result.taskId));
    return this;
  }

  /** A saved group (by this package or by Python's `GroupResult.save()`), or null. */
  static async restore(client, groupId) {
    const ids = await client.backend._restoreGroup(groupId);
    return ids ? new GroupResult(groupId, ids.map((id) => client.asyncResult(id))) : null;
  }
}

/**
 * Sends every signature of the canvas to `queue` unless it names its own: the tasks a worker
 * sends on (chain steps, chord bodies, callbacks) then go where this client's tasks go, not to
 * Celery's default `celery` queue.
 */
function routeTo(dict, client) {
  if (!dict || typeof dict !== 'object') return;
  if (dict.subtask_type == null) {
    dict.options = dict.options || {};
    // conf.TASK_ROUTES (queue and priority: a canvas message goes to a queue), then CELERY_QUEUE.
    const route = routeOptions(client.conf.TASK_ROUTES, dict.task, dict.args, dict.kwargs) || {};
    for (const key of ['queue', 'priority']) if (dict.options[key] == null && route[key] != null) dict.options[key] = route[key];
    const queue = client.conf.CELERY_QUEUE;
    if (dict.options.queue == null && queue !== 'celery') dict.options.queue = queue;
    for (const key of ['link', 'link_error']) for (const callback of dict.options[key] || []) routeTo(callback, client);
    return;
  }
  const { tasks, header, body } = dict.kwargs || {};
  for (const member of [...(tasks || []), ...(header || []), ...(body ? [body] : [])]) routeTo(member, client);
}

/**
 * Plans the canvas natively, tells the backend about chords first, then publishes. Returns at
 * once: a chain's or chord's last AsyncResult (with `.parent` back to the first), or a
 * GroupResult.
 */
function sendCanvas(client, dict) {
  routeTo(dict, client);
  const broker = client.broker;
  const backend = client.backend;
  const plan = callNative(() => broker._native.planCanvas(toJson(dict, 'the canvas', client.options)));
  const byId = new Map(plan.taskIds.map((id) => [id, new AsyncResult(id, backend, { published: true, client })]));
  // Tasks a worker sends (chain steps, a chord's body) are "sent" once everything this client
  // published is: their `sent` and `get()` see this client's publish failures too.
  const published = Promise.all(plan.taskIds.map((id) => byId.get(id).sent));
  published.catch(() => {}); // failures reach each result's `sent`; this one only fans them out
  const track = (id) => {
    if (byId.has(id)) return byId.get(id);
    const result = new AsyncResult(id, backend, { published: true, client });
    published.then(() => result._settleSent(null), (error) => result._settleSent(error));
    return result;
  };
  const sent = plan.taskIds.map((id) => byId.get(id));
  const publish = () => broker.publishPlan(plan, sent, client.conf.CELERY_QUEUE);
  const sizes = plan.chordSizes;
  if (sizes.length === 0) {
    publish();
  } else {
    Promise.all(sizes.map(({ groupId, size }) => backend._prepareChord(groupId, size))).then(publish, (error) => {
      for (const result of sent) result._settleSent(error);
      if (client.listenerCount('error') > 0) client.emit('error', error);
    });
  }
  if (plan.resultKind === 'group') return new GroupResult(plan.resultId, plan.resultMembers.map(track));
  const result = track(plan.resultId);
  let child = result;
  for (const parentId of [...plan.resultMembers].reverse()) {
    child.parent = track(parentId);
    child = child.parent;
  }
  return result;
}

module.exports = { Signature, GroupResult, chain, group, chord, sendCanvas };
