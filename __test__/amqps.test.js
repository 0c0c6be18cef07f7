'use strict';
// amqps:// against a RabbitMQ node of this test's own with a TLS listener: the CA, Node's
// rejectUnauthorized and servername options, and a certificate that names another host.

const { describe, it, before } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { createClient } = require('..');
const { freePort, startPrivateRabbit } = require('./support/services');
const { runPython } = require('./support/worker');
const { makeCertificates, uniqueQueue } = require('./helpers');

describe('amqps://', () => {
  let ca;
  let tlsUrl; // the certificate names rabbit.test, not 127.0.0.1
  let plainUrl;

  before(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cn-amqps-'));
    const certificates = makeCertificates(dir, 'DNS:rabbit.test');
    ca = certificates.ca;
    const port = await freePort();
    const node = await startPrivateRabbit({ tls: { port, ...certificates } });
    plainUrl = node.url;
    tlsUrl = `amqps://guest:guest@127.0.0.1:${port}//`;
  });

  async function publishOne(options) {
    const queue = uniqueQueue('amqps');
    const client = createClient(tlsUrl, 'redis://127.0.0.1:1/0', queue);
    client.conf.CELERY_BROKER_OPTIONS = { connectTimeout: 5000, ...options };
    try {
      await client.broker.isReady();
      await client.createTask('tasks.add').delay(1, 2).sent; // the backend is named, never used
      return Number(await runPython('amqp_admin.py', [plainUrl, 'count', queue]));
    } finally {
      await client.disconnect();
    }
  }

  it('verifies the server against the given CA and the servername option', async () => {
    assert.equal(await publishOne({ ca, servername: 'rabbit.test' }), 1);
  });

  it('refuses a certificate for another name, or from an unknown CA', async () => {
    await assert.rejects(publishOne({ ca }), { code: 'ERR_CELERY_BROKER_UNREACHABLE' });
    await assert.rejects(publishOne({ servername: 'rabbit.test' }), { code: 'ERR_CELERY_BROKER_UNREACHABLE' });
  });

  it('accepts any certificate with rejectUnauthorized: false', async () => {
    assert.equal(await publishOne({ rejectUnauthorized: false }), 1);
  });
});
