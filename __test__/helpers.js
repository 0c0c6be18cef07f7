'use strict';
// Small shared pieces of the JS test suites.

const { randomUUID } = require('node:crypto');
const { execFile, execFileSync, spawn } = require('node:child_process');
const { once } = require('node:events');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { promisify } = require('node:util');
const { redisUrl, redisCommand, privateServices, freePort } = require('./support/services');

/** rabbitmqctl against the RabbitMQ the tests use (the machine's, or the private node). */
async function rabbitmqctl(...args) {
  const node = privateServices.rabbitmq;
  // A private node has its own epmd port and its own Erlang cookie (in its HOME).
  const env = node ? { ...process.env, ERL_EPMD_PORT: String(node.epmdPort), HOME: node.dir } : process.env;
  // Debian's /usr/sbin/rabbitmqctl re-runs itself as the rabbitmq user (with that user's cookie);
  // a private node needs the real script, run as us.
  const direct = '/usr/lib/rabbitmq/bin/rabbitmqctl';
  const command = node && fs.existsSync(direct) ? direct : 'rabbitmqctl';
  const { stdout } = await promisify(execFile)(command, [...(node ? ['-n', node.nodename] : []), ...args], { env });
  return stdout;
}

/** The broker-side ids of the open connections that carry this connection name. */
async function amqpConnectionsNamed(connectionName) {
  const rows = (await rabbitmqctl('list_connections', '-q', 'pid', 'client_properties')).split('\n');
  return rows.filter((row) => row.includes(`"${connectionName}"`)).map((row) => row.split('\t')[0]);
}

/** Closes the broker's connections that carry this connection name, as an operator would. */
async function closeAmqpConnections(connectionName) {
  const pids = await amqpConnectionsNamed(connectionName);
  for (const pid of pids) await rabbitmqctl('close_connection', pid, 'test: connection closed on purpose');
  return pids.length;
}

/**
 * A throwaway CA and a server certificate signed by it, in `dir` (ca.crt, server.crt,
 * server.key). `names` become the certificate's subjectAltName.
 */
function makeCertificates(dir, names = 'DNS:localhost,IP:127.0.0.1') {
  const run = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=celery-native test CA', '-days', '2');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=celery-native test server');
  fs.writeFileSync(path.join(dir, 'san.ext'), `subjectAltName=${names}\n`);
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.ext');
  return { ca: fs.readFileSync(path.join(dir, 'ca.crt'), 'utf8'), cacertfile: path.join(dir, 'ca.crt'), certfile: path.join(dir, 'server.crt'), keyfile: path.join(dir, 'server.key') };
}

/** A queue name no other test uses. */
function uniqueQueue(label) {
  return `cn-${label}-${randomUUID().slice(0, 8)}`;
}

/** Deletes a queue's lists (all priority buckets) and binding sets. */
async function dropQueue(url, queue) {
  const keys = [queue, ...[3, 6, 9].map((p) => `${queue}\x06\x16${p}`), `_kombu.binding.${queue}`, `_kombu.binding_permanent.${queue}`];
  await redisCommand(url, 'DEL', ...keys);
}

/**
 * Remembers the id of every task a client sends or looks up, so a suite can delete the result
 * keys it caused (`dropResults`) instead of leaving them to expire in a shared Redis.
 */
function recordTaskIds(client) {
  const ids = [];
  for (const method of ['sendTask', 'asyncResult']) {
    const original = client[method];
    client[method] = function recorded(...args) {
      const result = original.apply(this, args);
      ids.push(result.taskId);
      return result;
    };
  }
  return ids;
}

async function dropResults(url, ids) {
  for (let i = 0; i < ids.length; i += 500) {
    await redisCommand(url, 'DEL', ...ids.slice(i, i + 500).map((id) => `celery-task-meta-${id}`));
  }
}

/** Resolves when `check()` is truthy; for states that live in another process. */
async function eventually(check, { timeout = 10_000, every = 10 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, every));
  }
}

/**
 * A redis-server of the calling test's own that it may stop and start again (an append-only file
 * keeps the data across a restart): `{ url, start, stop, dispose }`.
 */
async function restartableRedis() {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cn-restart-'));
  let server = null;
  const start = async () => {
    server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    server.stdout.on('data', (d) => (out += d));
    while (!/Ready to accept connections/.test(out)) await once(server.stdout, 'data');
  };
  const stop = async () => {
    const exited = once(server, 'exit');
    server.kill('SIGTERM');
    await exited;
  };
  await start();
  return { url: `redis://127.0.0.1:${port}/0`, start, stop, dispose: async () => { await stop(); fs.rmSync(dir, { recursive: true, force: true }); } };
}

module.exports = { restartableRedis, makeCertificates, rabbitmqctl, amqpConnectionsNamed, closeAmqpConnections, uniqueQueue, dropQueue, recordTaskIds, dropResults, eventually, redisUrl, redisCommand };
