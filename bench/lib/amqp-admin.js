'use strict';
// Node side of amqp_helper.py: one long-lived Python (py-amqp, through kombu) connection for
// message counts (passive queue_declare) and deletions.

const path = require('node:path');
const readline = require('node:readline');
const { spawn } = require('node:child_process');
const { ensureVenv } = require('../../__test__/support/setup');
const { killNow } = require('../../__test__/support/cleanup');

class AmqpAdmin {
  static async start(url) {
    const { python } = await ensureVenv();
    const admin = new AmqpAdmin();
    // Its own process group, so that a Ctrl-C reaches the harness only and the harness can still
    // delete its queues through this helper; killed when the harness exits.
    admin.child = spawn(python, [path.join(__dirname, 'amqp_helper.py'), url], {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
      env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' },
    });
    const kill = () => killNow(admin.child.pid);
    process.on('exit', kill);
    admin.unregister = () => process.removeListener('exit', kill);
    admin.stderr = '';
    admin.child.stderr.setEncoding('utf8').on('data', (d) => (admin.stderr = (admin.stderr + d).slice(-8192)));
    admin.waiting = [];
    admin.exited = false;
    readline.createInterface({ input: admin.child.stdout }).on('line', (line) => {
      const w = admin.waiting.shift();
      if (w) w.resolve(JSON.parse(line));
    });
    admin.child.on('exit', (code) => {
      admin.exited = true;
      for (const w of admin.waiting.splice(0)) w.reject(new Error(`amqp helper exited (${code}): ${admin.stderr}`));
    });
    await admin.request({ op: 'server' }); // connected
    return admin;
  }

  request(req) {
    if (this.exited) return Promise.reject(new Error(`amqp helper is gone: ${this.stderr}`));
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.child.stdin.write(`${JSON.stringify(req)}\n`);
    }).then((reply) => {
      if (reply.error) throw new Error(`amqp helper: ${reply.error}`);
      return reply;
    });
  }

  async count(queue) {
    return (await this.request({ op: 'count', queue })).count;
  }

  async exchangeExists(name) {
    return (await this.request({ op: 'exchange_exists', name })).exists;
  }

  async delete({ queues = [], exchanges = [] }) {
    await this.request({ op: 'delete', queues, exchanges });
  }

  async close() {
    if (this.exited) return;
    const gone = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin.end();
    const t = setTimeout(() => killNow(this.child.pid), 5000);
    await gone;
    clearTimeout(t);
    this.unregister();
  }
}

module.exports = { AmqpAdmin };
