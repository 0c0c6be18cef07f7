'use strict';
// Broker / backend services for the tests, with no npm dependencies.
//
//   redisUrl()  -> 'redis://127.0.0.1:6379' if a Redis answers PING there,
//                  else starts a private redis-server on a free port.
//   amqpUrl()   -> 'amqp://guest:guest@127.0.0.1:5672//' if a broker answers
//                  the AMQP 0-9-1 handshake there, else starts a private
//                  RabbitMQ node (takes ~5-15 s).
//   redisCommand(url, ...args)  one RESP command, parsed reply.
//
// Environment:
//   CELERY_NATIVE_TEST_PRIVATE_SERVICES=1  never reuse the shared services,
//                                          always start private ones
//   CELERY_NATIVE_TEST_REDIS_URL / CELERY_NATIVE_TEST_AMQP_URL
//                                          use this URL as-is (no checks)
//
// Private services are started at most once per process, live in their own
// directory under os.tmpdir(), and are SIGKILLed (directory removed) when the
// Node process exits.

const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const { spawn } = require('node:child_process');
const { onExit, killNow } = require('./cleanup');

const SHARED_REDIS = { host: '127.0.0.1', port: 6379 };
const SHARED_AMQP = { host: '127.0.0.1', port: 5672 };
const OUTPUT_LIMIT = 256 * 1024;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function forcePrivate() {
  const v = process.env.CELERY_NATIVE_TEST_PRIVATE_SERVICES;
  return !!v && v !== '0' && v.toLowerCase() !== 'false';
}

function randomSuffix() {
  return crypto.randomBytes(4).toString('hex');
}

/** n distinct TCP ports that were free a moment ago (bound together to 127.0.0.1:0, then closed). */
async function freePorts(n) {
  const servers = [];
  try {
    for (let i = 0; i < n; i++) {
      const srv = net.createServer();
      srv.unref();
      servers.push(srv);
      await new Promise((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', resolve);
      });
    }
    return servers.map((srv) => srv.address().port);
  } finally {
    await Promise.all(servers.map((srv) => new Promise((r) => srv.close(() => r()))));
  }
}

/** A TCP port that was free a moment ago. */
async function freePort() {
  return (await freePorts(1))[0];
}

/**
 * Open a TCP connection, write `payload`, resolve with the first chunk received
 * (or null on refusal / timeout / close without data).
 */
function probe(host, port, payload, timeoutMs = 1000) {
  return new Promise((resolve) => {
    let done = false;
    const sock = net.connect({ host, port });
    const finish = (v) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    sock.on('connect', () => sock.write(payload));
    sock.on('data', (d) => finish(d));
    sock.on('error', () => finish(null));
    sock.on('close', () => finish(null));
  });
}

function tcpAccepts(host, port, timeoutMs) {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const finish = (v) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.on('connect', () => finish(true));
    sock.on('error', () => finish(false));
  });
}

async function redisAnswers(host, port, timeoutMs) {
  const reply = await probe(host, port, '*1\r\n$4\r\nPING\r\n', timeoutMs);
  return !!reply && reply.toString('latin1').startsWith('+PONG');
}

// AMQP 0-9-1: client sends the protocol header, the server answers with a
// Connection.Start method frame (frame type 1 on channel 0).
async function amqpAnswers(host, port, timeoutMs) {
  const reply = await probe(host, port, Buffer.from('AMQP\x00\x00\x09\x01', 'latin1'), timeoutMs);
  return !!reply && reply.length >= 7 && reply[0] === 1 && reply[1] === 0 && reply[2] === 0;
}

/** Spawn a long-running service in its own process group, collecting output. */
function spawnService(cmd, args, opts) {
  const child = spawn(cmd, args, { ...opts, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (d) => {
    output += d;
    if (output.length > OUTPUT_LIMIT) output = output.slice(-OUTPUT_LIMIT);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  let exited = null;
  child.on('exit', (code, signal) => (exited = { code, signal }));
  child.on('error', (err) => {
    exited = { error: err };
    collect(`\n[spawn error] ${err.message}\n`);
  });
  // Do not keep the test process alive; the exit hook kills it.
  child.unref();
  child.stdout.unref();
  child.stderr.unref();
  return {
    child,
    output: () => output,
    exited: () => exited,
  };
}

async function waitUntil(check, svc, what, timeoutMs, intervalMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    const ex = svc.exited();
    if (ex) {
      throw new Error(`${what} exited before it was ready (${JSON.stringify(ex)}):\n${svc.output()}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`${what} not ready after ${timeoutMs} ms:\n${svc.output()}`);
    }
    await sleep(intervalMs);
  }
}

function makeTmpDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

// ---------------------------------------------------------------------------
// Redis

async function startPrivateRedis() {
  const dir = makeTmpDir('celery-native-redis-');
  const port = await freePort();
  const svc = spawnService(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--daemonize', 'no', '--dir', dir, '--logfile', ''],
    { cwd: dir },
  );
  const pid = svc.child.pid;
  onExit(() => {
    killNow(pid, { group: true });
    killNow(pid);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await waitUntil(() => redisAnswers('127.0.0.1', port, 500), svc, `redis-server on port ${port}`, 15_000, 50);
  privateServices.redis = { pid, port, dir, output: svc.output };
  return `redis://127.0.0.1:${port}`;
}

let redisPromise = null;

/** URL of a Redis for the tests: the shared one if it answers, else a private one. */
function redisUrl() {
  if (!redisPromise) {
    redisPromise = (async () => {
      if (process.env.CELERY_NATIVE_TEST_REDIS_URL) return process.env.CELERY_NATIVE_TEST_REDIS_URL;
      if (!forcePrivate() && (await redisAnswers(SHARED_REDIS.host, SHARED_REDIS.port, 1000))) {
        return `redis://${SHARED_REDIS.host}:${SHARED_REDIS.port}`;
      }
      return startPrivateRedis();
    })();
    redisPromise.catch(() => (redisPromise = null));
  }
  return redisPromise;
}

// ---------------------------------------------------------------------------
// RabbitMQ

function rabbitServerCommand() {
  // Debian's /usr/sbin/rabbitmq-server is a wrapper that, when run as root,
  // re-executes the real script through `su rabbitmq` (which would make our
  // tmp dirs unwritable and the process tree harder to kill). Call the real
  // script directly when it is there.
  const direct = '/usr/lib/rabbitmq/bin/rabbitmq-server';
  return fs.existsSync(direct) ? direct : 'rabbitmq-server';
}

/**
 * Starts a RabbitMQ node of this process's own. With `tls` ({ port, cacertfile, certfile,
 * keyfile }) it also listens for amqps:// there; such a node is not the tests' shared one.
 */
async function startPrivateRabbit({ tls } = {}) {
  const dir = makeTmpDir('celery-native-rabbitmq-');
  const [port, distPort, epmdPort] = await freePorts(3);
  const nodename = `celerynative${randomSuffix()}@localhost`;
  const f = (name) => path.join(dir, name);
  fs.mkdirSync(f('mnesia'));
  fs.mkdirSync(f('log'));
  fs.writeFileSync(f('enabled_plugins'), '[].\n');
  fs.writeFileSync(f('rabbitmq-env.conf'), '# private test node: ignore the system rabbitmq-env.conf\n');
  fs.writeFileSync(
    f('rabbitmq.conf'),
    ['loopback_users.guest = true', 'disk_free_limit.absolute = 1MB', 'log.console = true',
      'log.console.level = warning', 'log.file.level = info',
      ...(tls
        ? [`listeners.ssl.default = 127.0.0.1:${tls.port}`, `ssl_options.cacertfile = ${tls.cacertfile}`,
          `ssl_options.certfile = ${tls.certfile}`, `ssl_options.keyfile = ${tls.keyfile}`,
          'ssl_options.verify = verify_none', 'ssl_options.fail_if_no_peer_cert = false']
        : []),
      ''].join('\n'),
  );
  const env = {
    ...process.env,
    HOME: dir, // private .erlang.cookie
    RABBITMQ_NODENAME: nodename,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: f('mnesia'),
    RABBITMQ_LOG_BASE: f('log'),
    RABBITMQ_CONFIG_FILE: f('rabbitmq.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: f('advanced.config'), // absent on purpose
    RABBITMQ_CONF_ENV_FILE: f('rabbitmq-env.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: f('enabled_plugins'),
    RABBITMQ_PID_FILE: f('rabbitmq.pid'),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    // A private epmd (started below) on its own port.
    ERL_EPMD_ADDRESS: '127.0.0.1',
    ERL_EPMD_PORT: String(epmdPort),
  };
  // Our own epmd, in the foreground on a private port: if erl had to start one
  // it would run `epmd -daemon`, which escapes our process group and outlives us.
  const epmd = spawnService('epmd', ['-port', String(epmdPort), '-address', '127.0.0.1'], { cwd: dir, env });
  onExit(() => {
    killNow(epmd.child.pid, { group: true });
    killNow(epmd.child.pid);
  });
  await waitUntil(() => tcpAccepts('127.0.0.1', epmdPort, 500), epmd, `epmd on port ${epmdPort}`, 10_000, 25);

  const svc = spawnService(rabbitServerCommand(), [], { cwd: dir, env });
  const pid = svc.child.pid;
  onExit(() => {
    killNow(pid, { group: true }); // sh wrapper + beam.smp + erl_child_setup ...
    killNow(pid);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const what = `rabbitmq-server ${nodename} on port ${port}`;
  try {
    await waitUntil(() => amqpAnswers('127.0.0.1', port, 1000), svc, what, 60_000, 250);
  } catch (err) {
    let log = '';
    try {
      for (const name of fs.readdirSync(f('log'))) log += `\n--- ${name}\n` + fs.readFileSync(path.join(f('log'), name), 'utf8').slice(-20000);
    } catch {
      /* no logs */
    }
    err.message += log;
    throw err;
  }
  const node = { pid, port, distPort, epmdPort, nodename, dir, output: svc.output };
  if (tls) return { url: `amqp://guest:guest@127.0.0.1:${port}//`, node };
  privateServices.rabbitmq = node;
  return `amqp://guest:guest@127.0.0.1:${port}//`;
}

let amqpPromise = null;

/** URL of a RabbitMQ for the tests (kombu style: trailing '//' = vhost '/'). */
function amqpUrl() {
  if (!amqpPromise) {
    amqpPromise = (async () => {
      if (process.env.CELERY_NATIVE_TEST_AMQP_URL) return process.env.CELERY_NATIVE_TEST_AMQP_URL;
      if (!forcePrivate() && (await amqpAnswers(SHARED_AMQP.host, SHARED_AMQP.port, 1000))) {
        return `amqp://guest:guest@${SHARED_AMQP.host}:${SHARED_AMQP.port}//`;
      }
      return startPrivateRabbit();
    })();
    amqpPromise.catch(() => (amqpPromise = null));
  }
  return amqpPromise;
}

/** Info about services this process started ({ redis, rabbitmq }), for debugging. */
const privateServices = {};

// ---------------------------------------------------------------------------
// Minimal RESP client

function encodeCommand(args) {
  const parts = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a), 'utf8');
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

class RedisReplyError extends Error {}

/**
 * Parse one RESP value from buf at offset. Returns { value, end } or null when
 * more data is needed. Bulk strings become utf8 strings, or Buffers if asBuffers.
 * Error replies become RedisReplyError instances (not thrown here).
 */
function parseReply(buf, offset, asBuffers) {
  const lineEnd = buf.indexOf('\r\n', offset, 'latin1');
  if (lineEnd < 0) return null;
  const type = String.fromCharCode(buf[offset]);
  const line = buf.toString('utf8', offset + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: new RedisReplyError(line), end: next };
    case ':':
      return { value: Number(line), end: next };
    case '_': // RESP3 null
      return { value: null, end: next };
    case '$': {
      const len = Number(line);
      if (len < 0) return { value: null, end: next };
      if (buf.length < next + len + 2) return null;
      const data = buf.subarray(next, next + len);
      return { value: asBuffers ? Buffer.from(data) : data.toString('utf8'), end: next + len + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      const items = [];
      let pos = next;
      for (let i = 0; i < n; i++) {
        const r = parseReply(buf, pos, asBuffers);
        if (!r) return null;
        items.push(r.value);
        pos = r.end;
      }
      return { value: items, end: pos };
    }
    default:
      throw new Error(`unexpected RESP type byte ${JSON.stringify(type)}`);
  }
}

function parseRedisUrl(url) {
  const u = new URL(url);
  if (u.protocol !== 'redis:') throw new Error(`unsupported redis URL ${url}`);
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db)) throw new Error(`bad db in redis URL ${url}`);
  return {
    host: u.hostname || '127.0.0.1',
    port: Number(u.port || 6379),
    username: u.username ? decodeURIComponent(u.username) : null,
    password: u.password ? decodeURIComponent(u.password) : null,
    db,
  };
}

/**
 * Send several commands on one fresh connection; resolve with their replies.
 * Rejects on connection errors, on timeout and if any reply is an error.
 */
function redisPipeline(url, commands, { asBuffers = false, timeoutMs = 5000 } = {}) {
  const { host, port, username, password, db } = parseRedisUrl(url);
  const pre = [];
  if (password) pre.push(username ? ['AUTH', username, password] : ['AUTH', password]);
  if (db) pre.push(['SELECT', String(db)]);
  const all = [...pre, ...commands];
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    const replies = [];
    let settled = false;
    const finish = (err, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    const timer = setTimeout(
      () => finish(new Error(`redis ${host}:${port} did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    sock.on('connect', () => sock.write(Buffer.concat(all.map(encodeCommand))));
    sock.on('data', (d) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      let r;
      try {
        while (replies.length < all.length && (r = parseReply(buf, 0, asBuffers))) {
          replies.push(r.value);
          buf = buf.subarray(r.end);
        }
      } catch (e) {
        return finish(e);
      }
      if (replies.length === all.length) {
        const err = replies.find((v) => v instanceof RedisReplyError);
        if (err) return finish(new RedisReplyError(`redis error: ${err.message}`));
        finish(null, replies.slice(pre.length));
      }
    });
    sock.on('error', (e) => finish(e));
    sock.on('close', () => finish(new Error(`redis ${host}:${port} closed the connection`)));
  });
}

/**
 * redisCommand('redis://127.0.0.1:6379/0', 'LRANGE', 'celery', 0, -1)
 *
 * One command over a fresh connection (AUTH / SELECT db from the URL first).
 * Reply mapping: simple string -> string, integer -> number, bulk string ->
 * utf8 string (use redisCommandBuffers for Buffers), nil -> null,
 * array -> array (nested). An error reply rejects with RedisReplyError.
 * Arguments may be strings, numbers or Buffers.
 */
async function redisCommand(url, ...args) {
  const [reply] = await redisPipeline(url, [args]);
  return reply;
}

/** Same as redisCommand, but bulk strings are returned as Buffers (binary-safe). */
async function redisCommandBuffers(url, ...args) {
  const [reply] = await redisPipeline(url, [args], { asBuffers: true });
  return reply;
}

module.exports = {
  startPrivateRabbit,
  redisUrl,
  amqpUrl,
  redisCommand,
  redisCommandBuffers,
  redisPipeline,
  RedisReplyError,
  privateServices,
  // exposed for tests of the harness itself
  freePort,
  redisAnswers,
  amqpAnswers,
};
