'use strict';
// The URL forms and connection options beyond plain redis://: TLS (rediss://) with a CA or
// without verification, Unix sockets (redis+socket:// and socket://), passwords.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { once } = require('node:events');
const { randomUUID } = require('node:crypto');
const { createClient } = require('..');
const { freePort } = require('./support/services');
const { makeCertificates } = require('./helpers');

async function startRedis(args) {
  const server = spawn('redis-server', ['--save', '', '--appendonly', 'no', '--bind', '127.0.0.1', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  server.stdout.on('data', (d) => (out += d));
  while (!/ready to accept connections/i.test(out)) {
    const [chunk] = await Promise.race([once(server.stdout, 'data'), once(server, 'exit').then(() => { throw new Error(`redis-server exited: ${out}`); })]);
    void chunk;
  }
  return server;
}

/** Publishes one task and reads a stored result back: both halves of a client work. */
async function roundTrip(client) {
  await client.isReady();
  const result = client.createTask('tasks.add').delay(1, 2);
  await result.sent;
  await client.backend.storeResult(result.taskId, 3, 'SUCCESS');
  return result.get(5000);
}

describe('connections', () => {
  let dir;
  let ca;
  let tlsPort;
  let socketPath;
  let plainPort;
  const servers = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cn-conn-'));
    ({ ca } = makeCertificates(dir));
    tlsPort = await freePort();
    servers.push(await startRedis(['--port', '0', '--tls-port', String(tlsPort), '--tls-cert-file', path.join(dir, 'server.crt'), '--tls-key-file', path.join(dir, 'server.key'), '--tls-ca-cert-file', path.join(dir, 'ca.crt'), '--tls-auth-clients', 'no']));
    plainPort = await freePort();
    // An ACL user, and no SUBSCRIBE: results must then be polled.
    servers.push(await startRedis(['--port', String(plainPort), '--rename-command', 'SUBSCRIBE', '', '--user', 'celery-user', 'on', '>user-secret', '~*', '&*', '+@all']));
    socketPath = path.join(dir, 'redis.sock');
    servers.push(await startRedis(['--port', '0', '--unixsocket', socketPath, '--requirepass', 'sock-secret']));
  });

  after(async () => {
    for (const server of servers) {
      const exited = once(server, 'exit');
      server.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('speaks TLS with a CA given in the options, as celery-node users pass it', async () => {
    const url = `rediss://localhost:${tlsPort}/0`;
    const client = createClient(url, url, `tls-${randomUUID()}`);
    client.conf.CELERY_BROKER_OPTIONS = { tls: { ca: Buffer.from(ca) } };
    client.conf.CELERY_BACKEND_OPTIONS = { tls: { ca } };
    assert.equal(await roundTrip(client), 3);
    await client.disconnect();
  });

  it('refuses an unknown certificate, and accepts it with rejectUnauthorized: false', async () => {
    const url = `rediss://localhost:${tlsPort}/0`;
    const strict = createClient(url, url);
    strict.conf.CELERY_BROKER_OPTIONS = { connectTimeout: 2000 };
    await assert.rejects(strict.broker.isReady(), { code: 'ERR_CELERY_BROKER_UNREACHABLE' });
    await strict.disconnect();
    const lax = createClient(url, url, `tls-${randomUUID()}`);
    lax.conf.CELERY_BROKER_OPTIONS = { tls: { rejectUnauthorized: false } };
    lax.conf.CELERY_BACKEND_OPTIONS = { tls: { rejectUnauthorized: false } };
    assert.equal(await roundTrip(lax), 3);
    await lax.disconnect();
  });

  it('logs in as an ACL user and falls back to polling when pub/sub is unavailable', async () => {
    const url = `redis://celery-user:user-secret@127.0.0.1:${plainPort}/0`;
    const client = createClient(url, url, `acl-${randomUUID()}`);
    await client.isReady();
    const result = client.createTask('tasks.add').delay(1, 2);
    const getting = result.get(10_000, 20);
    assert.equal(await result.status(), null); // the wait is under way and nothing is stored
    await client.backend.storeResult(result.taskId, 3, 'SUCCESS');
    assert.equal(await getting, 3);
    await client.disconnect();
    const wrong = createClient(`redis://celery-user:wrong@127.0.0.1:${plainPort}/0`, url);
    await assert.rejects(wrong.broker.isReady(), (e) => e.code === 'ERR_CELERY_BROKER_UNREACHABLE' && !e.message.includes('wrong'));
    await wrong.disconnect();
  });

  it('connects over a Unix socket with kombu and Celery URL forms and a password', async () => {
    const broker = `redis+socket://:sock-secret@${socketPath}?virtual_host=2`;
    const backend = `socket://:sock-secret@${socketPath}?virtual_host=3`;
    const client = createClient(broker, backend, `sock-${randomUUID()}`);
    assert.equal(await roundTrip(client), 3);
    await client.disconnect();
    const wrong = createClient(`redis+socket://:nope@${socketPath}`, backend);
    await assert.rejects(wrong.broker.isReady(), (e) => e.code === 'ERR_CELERY_BROKER_UNREACHABLE' && !e.message.includes('nope'));
    await wrong.disconnect();
  });
});
