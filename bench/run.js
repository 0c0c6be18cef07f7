#!/usr/bin/env node
'use strict';
// Side-by-side benchmark: celery-native against celery-node, same run, same broker, same message
// (tasks.add with small args). See bench/README.md.
//
//   npm run bench                 full run (a few minutes)
//   npm run bench -- --quick      smaller counts, under 2 minutes
//   node bench/run.js --only=publish,rt --transports=redis
//
// Prints machine facts, then one table; writes the rows as JSON lines to bench/results/latest.jsonl
// (and appends them to bench/results/history.jsonl). Everything it creates on Redis / RabbitMQ
// (queues, exchanges, result keys, lists) is deleted at the end, also after a failure or Ctrl-C.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const { spawn, spawnSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..');
const { redisUrl, amqpUrl } = require('../__test__/support/services');
const { startWorker, runPython } = require('../__test__/support/worker');
const { ensureVenv } = require('../__test__/support/setup');
const { Resp, info } = require('./lib/resp');
const { AmqpAdmin } = require('./lib/amqp-admin');
const { newPrefix, fanInId } = require('./lib/ids');
const { summary, fmt, fmtNumber } = require('./lib/stats');
const { cpuSnapshot, cpuPerTask, pidsNamed } = require('./lib/cpu');

const celeryNative = require('..');
const celeryNodeDir = path.dirname(require.resolve('celery-node/package.json', { paths: [ROOT] }));
const celeryNode = require(celeryNodeDir);

// ---------------------------------------------------------------------------------------------
// Options

function parseArgs(argv) {
  const o = { quick: false, only: null, transports: null, save: true, help: false };
  for (const a of argv) {
    if (a === '--quick') o.quick = true;
    else if (a === '--no-save') o.save = false;
    else if (a === '--private') o.private = true;
    else if (a.startsWith('--fanin-n=')) o.faninN = Number(a.slice(10));
    else if (a === '--help' || a === '-h') o.help = true;
    else if (a.startsWith('--only=')) o.only = new Set(a.slice(7).split(','));
    else if (a.startsWith('--transports=')) o.transports = new Set(a.slice(13).split(','));
    else throw new Error(`unknown argument ${a} (try --help)`);
  }
  return o;
}

const HELP = `usage: node bench/run.js [--quick] [--only=publish,ceiling,rt,fanin] [--transports=redis,amqp] [--private] [--fanin-n=N] [--no-save]

  --quick        smaller counts (finishes in under 2 minutes)
  --only=...     run only these scenarios (publish, ceiling, rt, fanin)
  --transports=  redis and/or amqp (rt on amqp runs amqp+redis and amqp+rpc)
  --fanin-n=N    pending get()s in the fan-in scenario (default 100,000; 20,000 with --quick)
  --private      start a private Redis and RabbitMQ for this run (quieter than shared ones)
  --no-save      do not write bench/results/*.jsonl

Services: the shared Redis (127.0.0.1:6379) and RabbitMQ (127.0.0.1:5672) when they answer,
otherwise private ones (see __test__/support/README.md; CELERY_NATIVE_TEST_PRIVATE_SERVICES=1,
CELERY_NATIVE_TEST_REDIS_URL, CELERY_NATIVE_TEST_AMQP_URL).`;

const FULL = {
  publishN: 50_000,
  publishWarm: 2_000,
  publishNodeAmqpN: 1_000, // celery-node publishes ~45 tasks/s to RabbitMQ
  publishNodeAmqpWarm: 20,
  seqN: 1_000,
  seqWarm: 20,
  seqNodeN: 100, // celery-node's get() polls every 500 ms: ~0.5 s per round trip
  seqNodeWarm: 2,
  concN: 5_000,
  concNodeRedisN: 5_000,
  concNodeAmqpN: 1_000,
  inFlight: 200,
  faninN: 100_000,
  ceilingN: 200_000,
  ceilingUnpipelinedN: 200_000,
  amqpCeilingN: 50_000,
  amqpWindow: 1_000,
};

const QUICK = {
  publishN: 10_000,
  publishWarm: 1_000,
  publishNodeAmqpN: 300,
  publishNodeAmqpWarm: 10,
  seqN: 200,
  seqWarm: 20,
  seqNodeN: 20,
  seqNodeWarm: 1,
  concN: 1_000,
  concNodeRedisN: 1_000,
  concNodeAmqpN: 300,
  inFlight: 200,
  faninN: 20_000,
  ceilingN: 200_000,
  ceilingUnpipelinedN: 50_000,
  amqpCeilingN: 20_000,
  amqpWindow: 1_000,
};

// ---------------------------------------------------------------------------------------------
// Small helpers

const now = () => performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (msg) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${Math.round(ms / 1000)} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Cleanup actions, run once in reverse order, each one on its own (a failure does not stop the rest). */
class Cleanup {
  constructor() {
    this.actions = [];
  }

  add(what, fn) {
    const entry = { what, fn };
    this.actions.push(entry);
    return () => {
      const i = this.actions.indexOf(entry);
      if (i >= 0) this.actions.splice(i, 1);
    };
  }

  /** Runs one registered action now (and forgets it). */
  async runOne(remove, what, fn) {
    remove();
    try {
      await withTimeout(Promise.resolve().then(fn), 30_000, `cleanup: ${what}`);
    } catch (e) {
      log(`cleanup failed (${what}): ${e.message}`);
    }
  }

  async runAll() {
    while (this.actions.length) {
      const { what, fn } = this.actions.pop();
      try {
        await withTimeout(Promise.resolve().then(fn), 30_000, `cleanup: ${what}`);
      } catch (e) {
        log(`cleanup failed (${what}): ${e.message}`);
      }
    }
  }
}

/** Registers fn as cleanup and returns a function that runs it now (once). */
function deferred(cleanup, what, fn) {
  let done = false;
  const remove = cleanup.add(what, async () => {
    done = true;
    await fn();
  });
  return async () => {
    if (done) return;
    done = true;
    await cleanup.runOne(remove, what, fn);
  };
}

// ---------------------------------------------------------------------------------------------
// Machine facts

function firstLine(cmd, args) {
  try {
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
    return r.status === 0 ? (r.stdout || r.stderr).trim().split('\n')[0] : null;
  } catch {
    return null;
  }
}

function packageVersion(dir) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

async function machineFacts(env) {
  const cpus = os.cpus();
  const binary = path.join(ROOT, 'celery-native.linux-x64-gnu.node');
  let binaryInfo = null;
  try {
    const st = fs.statSync(binary);
    binaryInfo = { file: path.basename(binary), mtime: st.mtime.toISOString(), bytes: st.size };
  } catch {
    /* not built for this platform name */
  }
  const facts = {
    cpu: cpus[0] ? cpus[0].model.trim() : 'unknown',
    cores: cpus.length,
    memGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    rustc: firstLine('rustc', ['-V']),
    redis: null,
    rabbitmq: null,
    python: null,
    celeryNative: packageVersion(ROOT),
    celeryNode: packageVersion(celeryNodeDir),
    git: firstLine('git', ['-C', ROOT, 'describe', '--always', '--dirty']),
    binary: binaryInfo,
    loadavg: os.loadavg().map((x) => +x.toFixed(2)),
  };
  if (env.resp) facts.redis = (await info(env.resp, 'server')).redis_version;
  if (env.admin) facts.rabbitmq = (await env.admin.request({ op: 'server' }).catch(() => ({}))).version || null;
  try {
    const { python } = await ensureVenv();
    facts.python = firstLine(python, ['-c', 'import sys, celery; print(f"{sys.version.split()[0]} (celery {celery.__version__})")']);
  } catch {
    /* no venv */
  }
  return facts;
}

// ---------------------------------------------------------------------------------------------
// Result table

/**
 * One row of the table. `better` says which direction is good ('higher' for rates, 'lower' for
 * times); the ratio is always "how many times better celery-native is" (>1: celery-native wins).
 */
function makeRow({ scenario, transport, metric, unit, better, native = null, node = null, reference = null, referenceLabel = null, nNative = null, nNode = null, extra = {} }) {
  let ratio = null;
  if (native !== null && node !== null && native > 0 && node > 0) ratio = better === 'higher' ? native / node : node / native;
  return { scenario, transport, metric, unit, better, native, node, ratio, reference, referenceLabel, nNative, nNode, extra };
}

function cell(value, unit, n, nOther) {
  if (value === null || value === undefined) return 'n/a';
  const s = fmt(value, unit);
  return n && nOther && n !== nOther ? `${s} (n=${n.toLocaleString('en-US')})` : s;
}

function renderTable(rows) {
  const header = ['scenario', 'transport', 'celery-native', 'celery-node', 'ratio', 'reference'];
  const body = rows.map((r) => {
    if (r.error) return [r.scenario, r.transport, `ERROR: ${r.error}`, '', '', ''];
    if (r.native === null && r.node === null) return [`${r.scenario}: ${r.metric}`, r.transport, '', '', '', `${r.referenceLabel}: ${fmt(r.reference, r.unit)}`];
    return [
      r.metric ? `${r.scenario}: ${r.metric}` : r.scenario,
      r.transport,
      cell(r.native, r.unit, r.nNative, r.nNode),
      cell(r.node, r.unit, r.nNode, r.nNative),
      r.ratio === null ? '' : `${fmtNumber(r.ratio)}×`,
      r.reference === null ? '' : `${r.referenceLabel}: ${fmt(r.reference, r.unit)}`,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => String(b[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Broker bookkeeping

function redisQueueKeys(queue) {
  return [queue, ...[3, 6, 9].map((p) => `${queue}\x06\x16${p}`), `_kombu.binding.${queue}`, `_kombu.binding_permanent.${queue}`];
}

async function dropRedisQueue(env, queue) {
  await env.resp.command('DEL', ...redisQueueKeys(queue));
}

async function dropResultKeys(env, ids) {
  for (let i = 0; i < ids.length; i += 1000) {
    const keys = ids.slice(i, i + 1000).map((id) => `celery-task-meta-${id}`);
    if (keys.length) await env.resp.command('DEL', ...keys);
  }
}

/** Messages waiting in `queue` on this transport's broker. */
async function brokerCount(env, transport, queue) {
  if (transport === 'redis') return env.resp.command('LLEN', queue);
  return (await env.admin.count(queue)) || 0;
}

/** Polls the broker until `queue` holds `target` messages; resolves with the time it saw that. */
async function waitForCount(env, transport, queue, target, { timeoutMs = 600_000, everyMs = 1 } = {}) {
  const deadline = now() + timeoutMs;
  for (;;) {
    const n = await brokerCount(env, transport, queue);
    if (n >= target) return now();
    if (now() > deadline) throw new Error(`queue ${queue} holds ${n} of ${target} messages after ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

function libs() {
  return [
    { name: 'celery-native', key: 'native', lib: celeryNative },
    { name: 'celery-node', key: 'node', lib: celeryNode },
  ];
}

// ---------------------------------------------------------------------------------------------
// Scenario 1: publish with no consumer

/** `bulk`: one `sendTasks` call with all n tasks (celery-native's bulk API) instead of the loop. */
async function publishOnce(env, { lib, key }, transport, n, warm, bulk = false) {
  const broker = transport === 'redis' ? env.redis : env.amqp;
  const queue = `bench.${env.runId}.pub.${transport}.${key}${bulk ? '.bulk' : ''}`;
  const dropQueue = deferred(env.cleanup, `queue ${queue}`, () =>
    transport === 'redis' ? dropRedisQueue(env, queue) : env.admin.delete({ queues: [queue], exchanges: [queue] }));
  const client = lib.createClient(broker, env.redis, queue);
  const disconnect = deferred(env.cleanup, `${key} client`, () => withTimeout(client.disconnect(), 10_000, 'disconnect'));
  try {
    await client.isReady(); // connecting is not what is measured
    const task = client.createTask('tasks.add');
    // Warm-up (JIT, connection buffers, queue declaration) into the same queue.
    const warmResults = [];
    for (let i = 0; i < warm; i++) warmResults.push(task.applyAsync([1, 2]));
    if (key === 'native') await Promise.all(warmResults.map((r) => r.sent));
    await waitForCount(env, transport, queue, warm, { everyMs: 2 });

    const batch = bulk ? Array.from({ length: n }, () => ({ name: 'tasks.add', args: [1, 2] })) : null;
    const t0 = now();
    let results;
    if (bulk) {
      results = client.sendTasks(batch);
    } else {
      results = new Array(n);
      for (let i = 0; i < n; i++) results[i] = task.applyAsync([1, 2]);
    }
    const loopMs = now() - t0;
    const sentAll = key === 'native' ? Promise.all(results.map((r) => r.sent)).then(() => now() - t0) : null;
    const onBrokerMs = (await waitForCount(env, transport, queue, warm + n, { everyMs: transport === 'redis' ? 1 : 2 })) - t0;
    const sentMs = sentAll ? await sentAll : null;
    let messageBytes = null;
    if (transport === 'redis') messageBytes = Buffer.byteLength(await env.resp.command('LINDEX', queue, 0));
    return { n, loopMs, onBrokerMs, sentMs, messageBytes };
  } finally {
    await disconnect();
    await dropQueue();
  }
}

async function scenarioPublish(env, transport) {
  const c = env.cfg;
  const out = {};
  for (const l of libs()) {
    const nodeAmqp = l.key === 'node' && transport === 'amqp';
    const n = nodeAmqp ? c.publishNodeAmqpN : c.publishN;
    const warm = nodeAmqp ? c.publishNodeAmqpWarm : c.publishWarm;
    log(`publish ${transport} ${l.name}: ${n} tasks`);
    out[l.key] = await withTimeout(publishOnce(env, l, transport, n, warm), 300_000, `publish ${transport} ${l.name}`);
    log(`  → ${fmt((out[l.key].n / out[l.key].onBrokerMs) * 1000, 'tasks/s')} (loop ${out[l.key].loopMs.toFixed(0)} ms, on broker ${out[l.key].onBrokerMs.toFixed(0)} ms${out[l.key].sentMs ? `, sent ${out[l.key].sentMs.toFixed(0)} ms` : ''})`);
  }
  log(`bulk publish ${transport} celery-native: ${c.publishN} tasks in one sendTasks`);
  const bulk = await withTimeout(publishOnce(env, libs()[0], transport, c.publishN, c.publishWarm, true), 300_000, `bulk publish ${transport}`);
  if (out.native.messageBytes) env.nativeMessageBytes = out.native.messageBytes;
  const rate = (r) => (r ? (r.n / r.onBrokerMs) * 1000 : null);
  const ceiling = transport === 'redis' ? env.ceilings.redisP16 : env.ceilings.amqp;
  const rows = [
    makeRow({
      scenario: `publish`, metric: 'on broker', transport, unit: 'tasks/s', better: 'higher',
      native: rate(out.native), node: rate(out.node), nNative: out.native.n, nNode: out.node.n,
      reference: ceiling ? ceiling.rate : null, referenceLabel: ceiling ? ceiling.label : null,
      extra: { native: out.native, node: out.node },
    }),
    makeRow({
      scenario: 'publish', metric: 'every result.sent settled', transport, unit: 'tasks/s', better: 'higher',
      native: out.native.sentMs ? (out.native.n / out.native.sentMs) * 1000 : null, nNative: out.native.n,
    }),
    makeRow({
      scenario: 'publish', metric: 'applyAsync loop only', transport, unit: 'calls/s', better: 'higher',
      native: (out.native.n / out.native.loopMs) * 1000, node: (out.node.n / out.node.loopMs) * 1000, nNative: out.native.n, nNode: out.node.n,
    }),
    makeRow({
      scenario: 'bulk publish (sendTasks, one call)', metric: 'on broker', transport, unit: 'tasks/s', better: 'higher',
      native: rate(bulk), nNative: bulk.n,
      reference: ceiling ? ceiling.rate : null, referenceLabel: ceiling ? ceiling.label : null,
      extra: { native: bulk, note: 'celery-node has no bulk API' },
    }),
  ];
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Scenario 5 (run before the others so the publish rows can show it): reference ceilings

/** Best of three redis-benchmark runs (a ceiling is the best the machine can do); all in `runs`. */
async function bestRedisBenchmark(env, n, pipeline, bytes, key) {
  const runs = [];
  for (let i = 0; i < 3; i++) {
    runs.push(await runRedisBenchmark(env, n, pipeline, bytes, key));
    await env.resp.command('DEL', key);
  }
  return { rate: Math.max(...runs), runs };
}

function runRedisBenchmark(env, n, pipeline, bytes, key) {
  const u = new URL(env.redis);
  const payload = 'x'.repeat(bytes);
  const args = ['-h', u.hostname, '-p', u.port || '6379', '-q', '-n', String(n), '-c', '1', '-P', String(pipeline)];
  if (u.password) args.push('-a', decodeURIComponent(u.password));
  const db = u.pathname && u.pathname !== '/' ? u.pathname.slice(1) : '0';
  args.push('--dbnum', db);
  // Same as `-t lpush -d <bytes>` but on a key of our own instead of the shared "mylist".
  args.push('LPUSH', key, payload);
  return new Promise((resolve, reject) => {
    const child = spawn('redis-benchmark', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const matches = [...out.matchAll(/([\d.]+) requests per second/g)];
      if (code !== 0 || !matches.length) return reject(new Error(`redis-benchmark exited ${code}: ${out.slice(-500)}`));
      resolve(Number(matches[matches.length - 1][1]));
    });
  });
}

async function amqpCeiling(env, n, window) {
  const amqplib = require(require.resolve('amqplib', { paths: [celeryNodeDir, ROOT] }));
  const queue = `bench.${env.runId}.ceiling.amqp`;
  const dropQueue = deferred(env.cleanup, `queue ${queue}`, () => env.admin.delete({ queues: [queue] }));
  const conn = await amqplib.connect(env.amqp.replace(/\/\/$/, '/%2F'), { noDelay: true });
  const closeConn = deferred(env.cleanup, 'amqplib connection', () => conn.close().catch(() => {}));
  try {
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue(queue, { durable: true, autoDelete: false });
    // A Celery-sized message: the JSON body and the headers celery-native writes.
    const id = crypto.randomUUID();
    const body = Buffer.from(JSON.stringify([[1, 2], {}, { callbacks: null, errbacks: null, chain: null, chord: null }]));
    const headers = { lang: 'js', task: 'tasks.add', id, shadow: null, eta: null, expires: null, group: null, group_index: null, retries: 0, timelimit: [null, null], root_id: id, parent_id: null, argsrepr: '[1, 2]', kwargsrepr: '{}', origin: 'gen1@bench', ignore_result: false, replaced_task_nesting: 0, stamped_headers: null, stamps: {} };
    const props = { contentType: 'application/json', contentEncoding: 'utf-8', deliveryMode: 2, priority: 0, correlationId: id, replyTo: id, headers, mandatory: true };
    let inFlight = 0;
    let confirmed = 0;
    let failed = 0;
    let wake = null;
    const onConfirm = (err) => {
      inFlight--;
      confirmed++;
      if (err) failed++;
      if (wake) {
        const w = wake;
        wake = null;
        w();
      }
    };
    const t0 = now();
    for (let i = 0; i < n; i++) {
      while (inFlight >= window) await new Promise((r) => (wake = r));
      inFlight++;
      if (!ch.publish('', queue, body, props, onConfirm)) await new Promise((r) => ch.once('drain', r));
    }
    while (confirmed < n) await new Promise((r) => (wake = r));
    const ms = now() - t0;
    if (failed) throw new Error(`${failed} publishes were nacked`);
    await ch.close();
    return (n / ms) * 1000;
  } finally {
    await closeConn();
    await dropQueue();
  }
}

async function scenarioCeilings(env) {
  const c = env.cfg;
  const rows = [];
  const key = `bench.${env.runId}.ceiling.redis`;
  const drop = deferred(env.cleanup, `key ${key}`, () => env.resp.command('DEL', key));
  try {
    if (env.transports.has('redis')) {
      for (const [n, p, bytes, name] of [
        [c.ceilingN, 16, 411, 'redisP16'],
        [c.ceilingUnpipelinedN, 1, 411, 'redisP1'],
      ]) {
        log(`ceiling: redis-benchmark LPUSH -c 1 -P ${p} -d ${bytes}, ${n} requests`);
        const { rate, runs } = await bestRedisBenchmark(env, n, p, bytes, key);
        env.ceilings[name] = { rate, label: `redis-benchmark -P ${p} -d ${bytes}` };
        rows.push(makeRow({ scenario: 'ceiling', metric: `redis-benchmark LPUSH -c 1 -P ${p} -d ${bytes}, best of 3`, transport: 'redis', unit: 'req/s', better: 'higher', reference: rate, referenceLabel: 'C client', extra: { n, runs } }));
        log(`  → ${fmt(rate, 'req/s')} (runs: ${runs.map((r) => fmtNumber(r)).join(', ')})`);
      }
    }
  } finally {
    await drop();
  }
  if (env.transports.has('amqp')) {
    log(`ceiling: amqplib confirm channel, window ${c.amqpWindow}, ${c.amqpCeilingN} messages`);
    const rate = await amqpCeiling(env, c.amqpCeilingN, c.amqpWindow);
    env.ceilings.amqp = { rate, label: `amqplib confirm window ${c.amqpWindow}` };
    rows.push(makeRow({ scenario: 'ceiling', metric: `amqplib publisher, confirm window ${c.amqpWindow}`, transport: 'amqp', unit: 'msg/s', better: 'higher', reference: rate, referenceLabel: 'raw amqplib', extra: { n: c.amqpCeilingN } }));
    log(`  → ${fmt(rate, 'msg/s')}`);
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Scenarios 2 and 3: round trips against a real Python worker (-P solo, concurrency 1)

async function sequential(client, n, warm, timeoutMs, ids) {
  const task = client.createTask('tasks.add');
  const ms = [];
  for (let i = 0; i < warm + n; i++) {
    const t0 = now();
    const r = task.applyAsync([1, 2]);
    ids.push(r.taskId);
    const v = await r.get(timeoutMs);
    const dt = now() - t0;
    if (v !== 3) throw new Error(`tasks.add returned ${JSON.stringify(v)}`);
    if (i >= warm) ms.push(dt);
  }
  return { ms };
}

async function concurrent(client, n, inFlight, timeoutMs, ids) {
  const task = client.createTask('tasks.add');
  const ms = [];
  let started = 0;
  let errors = 0;
  const lane = async () => {
    while (started < n) {
      started++;
      const t0 = now();
      const r = task.applyAsync([1, 2]);
      ids.push(r.taskId);
      try {
        await r.get(timeoutMs);
        ms.push(now() - t0);
      } catch {
        errors++;
      }
    }
  };
  const t0 = now();
  await Promise.all(Array.from({ length: inFlight }, lane));
  const totalMs = now() - t0;
  return { ms, errors, totalMs, rate: (ms.length / totalMs) * 1000 };
}

/** Tasks preloaded with nobody consuming, then the worker started: how fast it alone drains them. */
async function preloadAndStartWorker(env, rt, queue, m) {
  const client = celeryNative.createClient(rt.broker, rt.backend, queue);
  const disconnect = deferred(env.cleanup, 'preload client', () => withTimeout(client.disconnect(), 10_000, 'disconnect'));
  const replyQueue = rt.backend === 'rpc://' ? client.broker.replyTo : null;
  if (replyQueue) env.cleanup.add(`reply queue ${replyQueue}`, () => env.admin.delete({ queues: [replyQueue] }));
  // Connected as in the round trips: for rpc:// this starts the consumer of the reply queue.
  // (With nobody consuming it, the worker's drain rate swings between ~150 and ~2,000/s.)
  await client.isReady();
  const task = client.createTask('tasks.add');
  const results = [];
  for (let i = 0; i < m; i++) results.push(task.applyAsync([1, 2]));
  env.resultIds.push(...results.map((r) => r.taskId));
  await Promise.all(results.map((r) => r.sent));
  await waitForCount(env, rt.transport, queue, m, { everyMs: 5, timeoutMs: 60_000 });

  // Poll the queue while the worker starts and drains it; CPU is read at 90% and 10% left.
  const samples = [];
  let polling = true;
  let worker;
  let cpuFrom = null;
  let cpuTo = null;
  const poller = (async () => {
    while (polling) {
      const count = await brokerCount(env, rt.transport, queue);
      samples.push({ t: now(), count });
      if (worker && !cpuFrom && count <= 0.9 * m) cpuFrom = { count, cpu: cpuSnapshot(cpuSources(env, rt, worker)) };
      if (cpuFrom && !cpuTo && count <= 0.1 * m) cpuTo = { count, cpu: cpuSnapshot(cpuSources(env, rt, worker)) };
      if (count === 0) break;
      await sleep(rt.transport === 'redis' ? 2 : 3);
    }
  })();
  try {
    worker = await startWorker({ broker: rt.broker, backend: rt.backend, queues: [queue], concurrency: 1, loglevel: 'WARNING', args: ['-P', 'solo'] });
    await withTimeout(poller, 300_000, 'worker drain');
  } finally {
    polling = false;
  }
  // Only now read the results (nobody waited while the worker drained the queue); for rpc://
  // this also takes them off the client's reply queue.
  const values = await withTimeout(Promise.all(results.map((r) => r.get(300_000))), 300_000, 'preloaded results');
  if (values.some((v) => v !== 3)) throw new Error('a preloaded tasks.add did not return 3');
  await disconnect();
  // Drain rate in the steady state: between the samples where 90% and 10% of the messages were
  // still queued (the worker's start-up and its prefetch at the end are left out).
  const a = samples.find((s) => s.count <= 0.9 * m);
  const b = samples.find((s) => s.count <= 0.1 * m);
  const drainRate = ((a.count - b.count) / (b.t - a.t)) * 1000;
  const first = samples.findIndex((s) => s.count < m);
  const overallRate = (m / (samples[samples.length - 1].t - samples[Math.max(0, first - 1)].t)) * 1000;
  const drainCpu = cpuFrom && cpuTo ? cpuPerTask(cpuFrom.cpu, cpuTo.cpu, cpuFrom.count - cpuTo.count) : null;
  return { worker, drainRate, overallRate, drainCpu };
}

/** The processes whose CPU a round trip uses: the worker, RabbitMQ (if it is the broker), Redis. */
function cpuSources(env, rt, worker) {
  return { worker: worker.pid, broker: rt.transport === 'amqp' ? pidsNamed('beam.smp') : [], redis: env.redisPid };
}

async function scenarioRoundTrips(env, rt) {
  const c = env.cfg;
  const queue = `bench.${env.runId}.rt.${rt.label}`;
  const rows = [];
  const dropQueue = deferred(env.cleanup, `queue ${queue}`, () =>
    rt.transport === 'redis' ? dropRedisQueue(env, queue) : env.admin.delete({ queues: [queue], exchanges: [queue] }));
  let stopWorker = async () => {};
  try {
    log(`round trip ${rt.label}: preloading ${c.concN} tasks, then starting a -P solo worker`);
    const before = await preloadAndStartWorker(env, rt, queue, c.concN);
    const { worker, overallRate } = before;
    stopWorker = deferred(env.cleanup, `worker ${worker.name}`, () => worker.stop());
    const pool = (/concurrency:\s*([^\n]*)/.exec(worker.output()) || [])[1] || '?';
    log(`  → worker (concurrency ${pool.trim()}) drained ${fmt(before.drainRate, 'tasks/s')} (steady state; ${fmt(overallRate, 'tasks/s')} from its first message to its last)`);

    // Sequential round trips.
    const seq = {};
    const conc = {};
    for (const l of libs()) {
      if (l.key === 'node' && !rt.node) continue;
      const client = l.lib.createClient(rt.broker, rt.backend, queue);
      const disconnect = deferred(env.cleanup, `${l.key} client`, () => withTimeout(client.disconnect(), 10_000, 'disconnect'));
      const replyQueue = l.key === 'native' && rt.backend === 'rpc://' ? client.broker.replyTo : null;
      if (replyQueue) env.cleanup.add(`reply queue ${replyQueue}`, () => env.admin.delete({ queues: [replyQueue] }));
      try {
        await client.isReady();
        const n = l.key === 'node' ? c.seqNodeN : c.seqN;
        const warm = l.key === 'node' ? c.seqNodeWarm : c.seqWarm;
        log(`round trip ${rt.label} ${l.name}: ${n} sequential`);
        seq[l.key] = await withTimeout(sequential(client, n, warm, 30_000, env.resultIds), 600_000, 'sequential round trips');
        log(`  → p50 ${fmt(summary(seq[l.key].ms).p50, 'ms')}`);
        const cn = l.key === 'node' ? (rt.transport === 'redis' ? c.concNodeRedisN : c.concNodeAmqpN) : c.concN;
        log(`round trip ${rt.label} ${l.name}: ${cn} concurrent, ${c.inFlight} in flight`);
        const cpuBefore = cpuSnapshot(cpuSources(env, rt, worker));
        conc[l.key] = await withTimeout(concurrent(client, cn, c.inFlight, 120_000, env.resultIds), 600_000, 'concurrent round trips');
        conc[l.key].cpu = cpuPerTask(cpuBefore, cpuSnapshot(cpuSources(env, rt, worker)), conc[l.key].ms.length);
        log(`  → ${fmt(conc[l.key].rate, 'tasks/s')}, p50 ${fmt(summary(conc[l.key].ms).p50, 'ms')}${conc[l.key].errors ? `, ${conc[l.key].errors} errors` : ''}`);
      } finally {
        await disconnect();
      }
    }

    // The Python client on the same worker.
    log(`round trip ${rt.label} python client: ${c.seqN} sequential`);
    const pyOut = await runPython(path.join(__dirname, 'lib', 'py_roundtrip.py'), [queue, String(c.seqN), String(c.seqWarm)],
      { CELERY_BROKER_URL: rt.broker, CELERY_RESULT_BACKEND: rt.backend }, { timeout: 600_000 });
    const py = JSON.parse(pyOut.trim().split('\n').pop());
    env.resultIds.push(...py.ids);
    const pyStats = summary(py.ms);
    log(`  → p50 ${fmt(pyStats.p50, 'ms')}`);

    // The drain once more, with a new worker: the host's speed drifts within minutes, so the
    // reference is the mean of the drains before and after the round trips.
    await stopWorker();
    log(`round trip ${rt.label}: the drain again, with a new worker`);
    const after = await preloadAndStartWorker(env, rt, queue, c.concN);
    stopWorker = deferred(env.cleanup, `worker ${after.worker.name}`, () => after.worker.stop());
    log(`  → drained ${fmt(after.drainRate, 'tasks/s')}`);
    const drainRate = (before.drainRate + after.drainRate) / 2;
    const mean = (x, y) => (x === null || y === null ? null : (x + y) / 2);
    const drainCpu = before.drainCpu && after.drainCpu
      ? Object.fromEntries(Object.keys(before.drainCpu).map((k) => [k, mean(before.drainCpu[k], after.drainCpu[k])]))
      : before.drainCpu || after.drainCpu;

    const sn = seq.native ? summary(seq.native.ms) : null;
    const sd = seq.node ? summary(seq.node.ms) : null;
    for (const p of ['p50', 'p95', 'p99']) {
      rows.push(makeRow({
        scenario: 'round trip sequential', metric: p, transport: rt.label, unit: 'ms', better: 'lower',
        native: sn && sn[p], node: sd && sd[p], nNative: sn && sn.n, nNode: sd && sd.n,
        reference: pyStats[p], referenceLabel: 'python client',
        extra: p === 'p50' ? { native: sn, node: sd, python: pyStats } : {},
      }));
    }
    const cnS = conc.native ? summary(conc.native.ms) : null;
    const cdS = conc.node ? summary(conc.node.ms) : null;
    rows.push(makeRow({
      scenario: `round trip concurrent (${c.inFlight} in flight)`, metric: 'throughput', transport: rt.label, unit: 'tasks/s', better: 'higher',
      native: conc.native && conc.native.rate, node: conc.node ? conc.node.rate : null,
      nNative: cnS && cnS.n, nNode: cdS && cdS.n, reference: drainRate, referenceLabel: 'worker drain',
      extra: { workerPool: pool.trim(), preloaded: c.concN, drainBefore: before.drainRate, drainAfter: after.drainRate, drainOverallRate: overallRate, native: cnS && { ...cnS, errors: conc.native.errors, totalMs: conc.native.totalMs }, node: cdS && { ...cdS, errors: conc.node.errors, totalMs: conc.node.totalMs } },
    }));
    for (const p of ['p50', 'p99']) {
      rows.push(makeRow({
        scenario: `round trip concurrent (${c.inFlight} in flight)`, metric: p, transport: rt.label, unit: 'ms', better: 'lower',
        native: cnS && cnS[p], node: cdS && cdS[p], nNative: cnS && cnS.n, nNode: cdS && cdS.n,
      }));
    }
    // Where the CPU went, per task, during celery-native's round trips and while the worker drained.
    const cpuMetrics = [
      ['worker', 'CPU per task, Python worker'],
      ['workerWait', 'Python worker ready but waiting for a free core, per task'],
      ...(rt.transport === 'amqp' ? [['broker', 'CPU per task, RabbitMQ']] : []),
      ['redis', 'CPU per task, Redis'],
      ['client', 'CPU per task, this process'],
    ];
    // How busy the worker was (its CPU per task × tasks/s): unlike the rates, this does not move
    // with the host's speed, which changes the worker's CPU per task by a quarter within minutes.
    const busy = (rate, cpu) => (cpu && cpu.worker !== null && rate ? (rate * cpu.worker) / 1e4 : null);
    const drainBusy = [busy(before.drainRate, before.drainCpu), busy(after.drainRate, after.drainCpu)].filter((b) => b !== null);
    if (conc.native && busy(conc.native.rate, conc.native.cpu) !== null) {
      rows.push(makeRow({
        scenario: `round trip concurrent (${c.inFlight} in flight)`, metric: 'Python worker busy (its CPU per task × tasks/s)', transport: rt.label, unit: '%', better: 'higher',
        native: busy(conc.native.rate, conc.native.cpu), reference: drainBusy.length ? drainBusy.reduce((a, b) => a + b, 0) / drainBusy.length : null, referenceLabel: 'while draining',
      }));
    }
    for (const [key, metric] of cpuMetrics) {
      const during = conc.native && conc.native.cpu[key];
      if (during === null || during === undefined) continue;
      rows.push(makeRow({
        scenario: `round trip concurrent (${c.inFlight} in flight)`, metric, transport: rt.label, unit: 'µs', better: 'lower',
        native: during, reference: drainCpu && drainCpu[key], referenceLabel: 'while draining',
      }));
    }
  } finally {
    await stopWorker();
    await dropQueue();
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Scenario 4: result fan-in (celery-native, Redis)

function runChild(script, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim())) : reject(new Error(`${path.basename(script)} exited ${code}: ${err}`))));
  });
}

/** INFO commandstats → { command: calls }. */
function commandCalls(stats) {
  const out = {};
  for (const [k, v] of Object.entries(stats)) {
    const m = /^cmdstat_(.+)$/.exec(k);
    const calls = /calls=(\d+)/.exec(v);
    if (m && calls) out[m[1]] = Number(calls[1]);
  }
  return out;
}

async function scenarioFanIn(env) {
  const n = env.cfg.faninN;
  const prefix = newPrefix();
  const store = path.join(__dirname, 'lib', 'store-results.js');
  const dropKeys = deferred(env.cleanup, `${n} fan-in result keys`, () => runChild(store, [env.redis, prefix, String(n), 'del']));
  const client = celeryNative.createClient(env.redis, env.redis, `bench.${env.runId}.fanin`);
  const disconnect = deferred(env.cleanup, 'fan-in client', () => withTimeout(client.disconnect(), 10_000, 'disconnect'));
  try {
    // Warm the backend up (connection, code paths) with a few results of its own.
    const warmIds = Array.from({ length: 100 }, (_, i) => fanInId(prefix, n + i));
    const warm = warmIds.map((id) => client.asyncResult(id).get());
    const meta = (id) => JSON.stringify({ status: 'SUCCESS', result: 3, traceback: null, children: [], date_done: new Date().toISOString(), task_id: id });
    await sleep(200);
    await env.resp.pipeline(warmIds.flatMap((id) => [['SET', `celery-task-meta-${id}`, meta(id), 'EX', 3600], ['PUBLISH', `celery-task-meta-${id}`, meta(id)]]));
    await Promise.all(warm);
    const warmKeys = warmIds.map((id) => `celery-task-meta-${id}`);
    await env.resp.command('DEL', ...warmKeys);
    // Their channels are given up in a batch a little later: the count below starts without them.
    for (const deadline = now() + 10_000; now() < deadline; await sleep(5)) {
      const counts = await env.resp.command('PUBSUB', 'NUMSUB', ...warmKeys);
      if (counts.every((v, i) => i % 2 === 0 || Number(v) === 0)) break;
    }

    const cmd0 = commandCalls(await info(env.resp, 'commandstats'));
    const stats0 = await info(env.resp, 'stats');
    const clients0 = Number((await info(env.resp, 'clients')).connected_clients);
    const rss0 = process.memoryUsage().rss;
    let rssPeak = rss0;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 50);
    let infoCalls = 0;
    try {
      log(`fan-in: ${n} pending get()`);
      const t0 = now();
      let resolved = 0;
      let tDone = 0;
      let failures = 0;
      const errorKinds = new Map();
      const all = new Array(n);
      for (let i = 0; i < n; i++) {
        all[i] = client.asyncResult(fanInId(prefix, i)).get().then(
          (v) => {
            if (v !== 3) failures++;
            if (++resolved === n) tDone = now();
          },
          (e) => {
            failures++;
            const what = `${(e && e.code) || 'no code'}: ${String((e && e.message) || e).split('\n')[0].slice(0, 160)}`;
            errorKinds.set(what, (errorKinds.get(what) || 0) + 1);
            if (++resolved === n) tDone = now();
          },
        );
      }
      const issueMs = now() - t0;
      // Wait until the waiters are subscribed (Redis counts channels with subscribers), or until
      // the count stops growing (an implementation may not subscribe one channel per key).
      const base = Number(stats0.pubsub_channels);
      let last = -1;
      let stableSince = now();
      let subscribedMs = null;
      for (;;) {
        const s = await info(env.resp, 'stats');
        infoCalls++;
        const channels = Number(s.pubsub_channels) - base;
        if (channels >= n) {
          subscribedMs = now() - t0;
          break;
        }
        if (channels !== last) {
          last = channels;
          stableSince = now();
        } else if (now() - stableSince > 3000) {
          log(`  (subscriptions stopped at ${channels} channels)`);
          subscribedMs = now() - t0;
          break;
        }
        if (now() - t0 > 120_000) throw new Error(`only ${channels} of ${n} channels subscribed after 120 s`);
        await sleep(20);
      }
      const clientsPending = Number((await info(env.resp, 'clients')).connected_clients);
      const statsPending = await info(env.resp, 'stats');
      infoCalls += 2;
      const rssPending = process.memoryUsage().rss;
      const rssPeakPending = Math.max(rssPeak, rssPending);
      log(`  subscribed in ${subscribedMs.toFixed(0)} ms; storing ${n} results (SET + PUBLISH, pipelined, other process)`);
      const tStore = now();
      const stored = await runChild(store, [env.redis, prefix, String(n), 'set']);
      const tStored = now();
      await withTimeout(Promise.all(all), 120_000, 'fan-in resolution');
      const stats1 = await info(env.resp, 'stats');
      const cmd1 = commandCalls(await info(env.resp, 'commandstats'));
      infoCalls += 2;
      // Per-command calls during the run, less our own stores (SET, PUBLISH) and INFO polls.
      const perCommand = {};
      for (const [name, calls] of Object.entries(cmd1)) {
        let d = calls - (cmd0[name] || 0);
        if (name === 'set' || name === 'publish') d -= n;
        if (name === 'info') d -= infoCalls + 1;
        if (d > 0) perCommand[name] = d;
      }
      const rssAfter = process.memoryUsage().rss;
      rssPeak = Math.max(rssPeak, rssAfter);
      if (failures) log(`  ${failures} of ${n} get() calls FAILED: ${JSON.stringify([...errorKinds])}`);
      const ours = 2 * n + infoCalls; // the stores, our INFO polls
      const commands = Number(stats1.total_commands_processed) - Number(stats0.total_commands_processed) - ours;
      const commandsBeforeStore = Number(statsPending.total_commands_processed) - Number(stats0.total_commands_processed) - (infoCalls - 1);
      const r = {
        n, issueMs, subscribedMs, storeMs: tStored - tStore, storeChildMs: stored.ms,
        resolveAfterStoreMs: tDone - tStored, resolveFromStoreStartMs: tDone - tStore,
        rss0MB: rss0 / 2 ** 20, rssPendingGrowthMB: (rssPending - rss0) / 2 ** 20, rssPeakPendingGrowthMB: (rssPeakPending - rss0) / 2 ** 20, rssPeakGrowthMB: (rssPeak - rss0) / 2 ** 20, rssAfterGrowthMB: (rssAfter - rss0) / 2 ** 20,
        redisCommandsPerGet: commands / n, redisCommandsBeforeStorePerGet: commandsBeforeStore / n,
        connectedClientsDelta: clientsPending - clients0,
        redisCommandCalls: perCommand,
        failures,
        errors: Object.fromEntries(errorKinds),
        heap: process.memoryUsage(),
      };
      log(`  Redis commands during the run (others' traffic included): ${JSON.stringify(perCommand)}`);
      log(`  → stored in ${r.storeMs.toFixed(0)} ms, all resolved ${r.resolveFromStoreStartMs.toFixed(0)} ms after the first store, RSS +${r.rssPeakPendingGrowthMB.toFixed(0)} MB while pending, +${r.rssPeakGrowthMB.toFixed(0)} MB at the run's peak`);
      const row = (metric, unit, value, extra = {}) => makeRow({ scenario: `result fan-in (${n.toLocaleString('en-US')} get())`, metric, transport: 'redis', unit, better: 'lower', native: value, nNative: n, extra });
      return [
        row('register + subscribe all', 'ms', r.subscribedMs, r),
        row('all resolved, from first store', 'ms', r.resolveFromStoreStartMs, { storeMs: r.storeMs }),
        row('all resolved, after the last store (0: as they landed)', 'ms', Math.max(0, r.resolveAfterStoreMs)),
        row(`storing ${n.toLocaleString('en-US')} results (other process, pipelined)`, 'ms', r.storeMs),
        row('RSS growth, peak while pending', 'MB', r.rssPeakPendingGrowthMB),
        row('RSS growth, peak of the whole run (resolving too)', 'MB', r.rssPeakGrowthMB),
        row('RSS growth, after all resolved', 'MB', r.rssAfterGrowthMB),
        row('Redis commands per get()', 'cmds', r.redisCommandsPerGet),
        ...(failures ? [row('get() calls that FAILED', 'calls', failures, { errors: r.errors })] : []),
      ];
    } finally {
      clearInterval(sampler);
    }
  } finally {
    await disconnect();
    await dropKeys();
  }
}

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.help) {
    console.log(HELP);
    return 0;
  }
  if (opts.private) process.env.CELERY_NATIVE_TEST_PRIVATE_SERVICES = '1';
  const want = (s) => !opts.only || opts.only.has(s);
  const transports = opts.transports || new Set(['redis', 'amqp']);
  const env = {
    cfg: { ...(opts.quick ? QUICK : FULL), ...(opts.faninN > 0 ? { faninN: Math.floor(opts.faninN) } : {}) },
    runId: `${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}-${crypto.randomBytes(2).toString('hex')}`,
    transports,
    cleanup: new Cleanup(),
    ceilings: {},
    resultIds: [],
    nativeMessageBytes: null,
  };
  let interrupted = false;
  const onSignal = (sig) => {
    if (interrupted) return;
    interrupted = true;
    log(`${sig}: cleaning up`);
    env.cleanup.runAll().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // celery-node's polling get() leaves rejections unhandled when its connection closes (e.g. on
  // Ctrl-C, or a get() that timed out); they must not end the run before the cleanup.
  let unhandled = 0;
  process.on('unhandledRejection', (e) => {
    if (unhandled++ < 3) log(`unhandled rejection (ignored): ${String((e && e.message) || e).split('\n')[0]}`);
  });

  const startedAt = new Date();
  const t0 = now();
  const rows = [];
  let failed = false;
  try {
    env.redis = `${await redisUrl()}/0`;
    env.resp = await Resp.connect(env.redis);
    env.redisPid = Number((await info(env.resp, 'server')).process_id);
    env.cleanup.add('redis bookkeeping connection', () => env.resp.close());
    env.cleanup.add('result keys', () => dropResultKeys(env, env.resultIds));
    if (transports.has('amqp')) {
      env.amqp = await amqpUrl();
      env.admin = await AmqpAdmin.start(env.amqp);
      env.cleanup.add('amqp helper', () => env.admin.close());
      // celery-node declares an auto-delete "default" exchange that nothing binds; remove it only
      // if this run created it.
      const existed = await env.admin.exchangeExists('default');
      if (!existed) env.cleanup.add('exchange "default" (celery-node)', () => env.admin.delete({ exchanges: ['default'] }));
    }
    env.facts = await machineFacts(env);
    const f = env.facts;
    console.log(`celery-native benchmark ${opts.quick ? '(--quick) ' : ''}${startedAt.toISOString()}`);
    console.log(`machine: ${f.cpu}, ${f.cores} cores, ${f.memGiB} GiB, ${f.kernel}; load average ${f.loadavg.join(' ')}`);
    console.log(`software: node ${f.node}, ${f.rustc || 'rustc ?'}, redis ${f.redis || '-'}, rabbitmq ${f.rabbitmq || '-'}, python ${f.python || '?'}`);
    console.log(`packages: celery-native ${f.celeryNative} (${f.git || 'no git'}; ${f.binary ? `${f.binary.file} built ${f.binary.mtime}` : 'binary ?'}), celery-node ${f.celeryNode}`);
    console.log(`services${opts.private ? ' (private)' : ''}: ${env.redis}${env.amqp ? `, ${env.amqp.replace(/:[^:@/]*@/, ':***@')}` : ''}`);
    console.log('');

    const scenario = async (name, fn) => {
      if (interrupted) return;
      try {
        rows.push(...(await fn()));
      } catch (e) {
        failed = true;
        log(`${name} failed: ${e.stack || e.message}`);
        rows.push({ scenario: name, transport: '', error: e.message.split('\n')[0].slice(0, 200) });
      }
    };

    // Ceilings first (the publish rows show them), on a quiet broker.
    let ceilingRows = [];
    if (want('ceiling')) {
      await scenario('ceiling', async () => {
        ceilingRows = await scenarioCeilings(env);
        return [];
      });
    }
    if (want('publish')) {
      for (const t of ['redis', 'amqp']) if (transports.has(t)) await scenario(`publish ${t}`, () => scenarioPublish(env, t));
      // A pipelined ceiling with the exact size of celery-native's message, now that it is known.
      if (want('ceiling') && env.nativeMessageBytes && env.nativeMessageBytes !== 411 && transports.has('redis')) {
        await scenario('ceiling', async () => {
          const key = `bench.${env.runId}.ceiling.redis2`;
          const drop = deferred(env.cleanup, `key ${key}`, () => env.resp.command('DEL', key));
          try {
            log(`ceiling: redis-benchmark LPUSH -c 1 -P 16 -d ${env.nativeMessageBytes} (celery-native's message size)`);
            const { rate, runs } = await bestRedisBenchmark(env, env.cfg.ceilingN, 16, env.nativeMessageBytes, key);
            log(`  → ${fmt(rate, 'req/s')} (runs: ${runs.map((r) => fmtNumber(r)).join(', ')})`);
            ceilingRows.push(makeRow({ scenario: 'ceiling', metric: `redis-benchmark LPUSH -c 1 -P 16 -d ${env.nativeMessageBytes}, best of 3`, transport: 'redis', unit: 'req/s', better: 'higher', reference: rate, referenceLabel: 'C client', extra: { n: env.cfg.ceilingN, runs, note: "celery-native's message size" } }));
            return [];
          } finally {
            await drop();
          }
        });
      }
    }
    if (want('rt')) {
      const rts = [];
      if (transports.has('redis')) rts.push({ label: 'redis', transport: 'redis', broker: env.redis, backend: env.redis, node: true });
      if (transports.has('amqp')) {
        rts.push({ label: 'amqp+redis', transport: 'amqp', broker: env.amqp, backend: env.redis, node: true });
        rts.push({ label: 'amqp+rpc', transport: 'amqp', broker: env.amqp, backend: 'rpc://', node: false });
      }
      for (const rt of rts) await scenario(`round trip ${rt.label}`, () => scenarioRoundTrips(env, rt));
    }
    if (want('fanin') && transports.has('redis')) await scenario('result fan-in', () => scenarioFanIn(env));
    rows.push(...ceilingRows);
  } catch (e) {
    failed = true;
    log(`setup failed: ${e.stack || e.message}`);
  } finally {
    await env.cleanup.runAll();
  }
  if (interrupted) return 130;

  const elapsed = (now() - t0) / 1000;
  console.log(renderTable(rows));
  console.log('');
  console.log(`ratio: how many times better celery-native is (rates: native ÷ node; times: node ÷ native). (n=…): a smaller sample.`);
  console.log(`finished in ${elapsed.toFixed(0)} s; load average now ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);

  if (opts.save && rows.length) {
    const dir = path.join(__dirname, 'results');
    fs.mkdirSync(dir, { recursive: true });
    const common = { run: env.runId, at: startedAt.toISOString(), quick: opts.quick, privateServices: !!opts.private, facts: env.facts || null };
    const lines = rows.map((r) => JSON.stringify({ ...common, ...r })).join('\n') + '\n';
    fs.writeFileSync(path.join(dir, 'latest.jsonl'), lines);
    fs.appendFileSync(path.join(dir, 'history.jsonl'), lines);
    console.log(`rows written to ${path.relative(process.cwd(), path.join(dir, 'latest.jsonl'))}`);
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e && e.message && e.message.startsWith('unknown argument') ? e.message : e);
    process.exit(1);
  },
);
