'use strict';
// Child process of the fan-in scenario: writes (or deletes) N Celery results straight into Redis
// through one raw, pipelined RESP connection, as a worker's Redis backend would store them
// (SET celery-task-meta-<id> <meta> + PUBLISH celery-task-meta-<id> <meta>). It runs in its own
// process so that its buffers do not count in the RSS of the process being measured.
//
//   node store-results.js <redis url> <id prefix> <n> set|del
//
// Prints one JSON line: {"ms": elapsed, "commands": count, "errors": error replies}.

const net = require('node:net');
const { fanInId } = require('./ids');

const [url, prefix, nText, mode] = process.argv.slice(2);
const n = Number(nText);
const CHUNK = 2000; // results per write

function bulk(s) {
  return `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
}

function commandsFor(i) {
  const id = fanInId(prefix, i);
  const key = `celery-task-meta-${id}`;
  if (mode === 'del') return { text: `*2\r\n$3\r\nDEL\r\n${bulk(key)}`, count: 1 };
  const meta = JSON.stringify({ status: 'SUCCESS', result: 3, traceback: null, children: [], date_done: new Date().toISOString(), task_id: id });
  return {
    // An expiry, in case the harness dies before it deletes them.
    text: `*5\r\n$3\r\nSET\r\n${bulk(key)}${bulk(meta)}$2\r\nEX\r\n$4\r\n3600\r\n*3\r\n$7\r\nPUBLISH\r\n${bulk(key)}${bulk(meta)}`,
    count: 2,
  };
}

async function main() {
  const u = new URL(url);
  const sock = net.connect({ host: u.hostname || '127.0.0.1', port: Number(u.port || 6379) });
  await new Promise((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  sock.setNoDelay(true);
  let expected = 0;
  let replies = 0;
  let errors = 0;
  let atLineStart = true;
  let done;
  const finished = new Promise((resolve, reject) => {
    done = resolve;
    sock.on('error', reject);
  });
  // Every reply to SET / PUBLISH / DEL / SELECT / AUTH is one line: count the line ends.
  sock.on('data', (d) => {
    for (let i = 0; i < d.length; i++) {
      if (atLineStart && d[i] === 0x2d) errors++;
      atLineStart = d[i] === 0x0a;
      if (atLineStart) replies++;
    }
    if (expected && replies >= expected) done();
  });
  const pre = [];
  if (u.password) pre.push(`*2\r\n$4\r\nAUTH\r\n${bulk(decodeURIComponent(u.password))}`);
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : 0;
  if (db) pre.push(`*2\r\n$6\r\nSELECT\r\n${bulk(String(db))}`);
  if (pre.length) sock.write(pre.join(''));
  let total = pre.length;
  const started = performance.now();
  for (let i = 0; i < n; i += CHUNK) {
    const parts = [];
    for (let j = i; j < Math.min(n, i + CHUNK); j++) {
      const c = commandsFor(j);
      parts.push(c.text);
      total += c.count;
    }
    if (!sock.write(parts.join(''))) await new Promise((resolve) => sock.once('drain', resolve));
  }
  expected = total;
  if (replies < expected) await finished;
  const ms = performance.now() - started;
  sock.destroy();
  process.stdout.write(`${JSON.stringify({ ms, commands: total - pre.length, errors })}\n`);
}

main().catch((e) => {
  process.stderr.write(`${e.stack || e}\n`);
  process.exit(1);
});
