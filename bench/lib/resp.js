'use strict';
// A minimal persistent RESP2 client for the benchmark's own bookkeeping (LLEN polls, INFO, DEL,
// PUBSUB), so that measuring does not open a connection per poll. It is not what is measured.

const net = require('node:net');

function encode(args) {
  const parts = [`*${args.length}\r\n`];
  for (const a of args) {
    const s = String(a);
    parts.push(`$${Buffer.byteLength(s)}\r\n`, s, '\r\n');
  }
  return parts.join('');
}

/** Parses one reply at `offset`; null when more bytes are needed. Errors become Error values. */
function parse(buf, offset) {
  const lineEnd = buf.indexOf('\r\n', offset, 'latin1');
  if (lineEnd < 0) return null;
  const type = buf[offset];
  const line = buf.toString('utf8', offset + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case 0x2b: // +
      return { value: line, end: next };
    case 0x2d: // -
      return { value: new Error(line), end: next };
    case 0x3a: // :
      return { value: Number(line), end: next };
    case 0x24: { // $
      const len = Number(line);
      if (len < 0) return { value: null, end: next };
      if (buf.length < next + len + 2) return null;
      return { value: buf.toString('utf8', next, next + len), end: next + len + 2 };
    }
    case 0x2a: { // *
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      const items = new Array(n);
      let pos = next;
      for (let i = 0; i < n; i++) {
        const r = parse(buf, pos);
        if (!r) return null;
        items[i] = r.value;
        pos = r.end;
      }
      return { value: items, end: pos };
    }
    default:
      throw new Error(`unexpected RESP type byte ${type}`);
  }
}

class Resp {
  static async connect(url) {
    const u = new URL(url);
    const c = new Resp();
    await new Promise((resolve, reject) => {
      c.sock = net.connect({ host: u.hostname || '127.0.0.1', port: Number(u.port || 6379) }, resolve);
      c.sock.once('error', reject);
    });
    c.sock.setNoDelay(true);
    c.sock.on('error', (e) => c._fail(e));
    c.sock.on('close', () => c._fail(new Error('redis connection closed')));
    c.sock.on('data', (d) => c._data(d));
    if (u.password) await c.command('AUTH', ...(u.username ? [decodeURIComponent(u.username)] : []), decodeURIComponent(u.password));
    const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : 0;
    if (db) await c.command('SELECT', db);
    return c;
  }

  constructor() {
    this.buf = Buffer.alloc(0);
    this.waiting = [];
    this.closed = false;
  }

  _data(d) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    let r;
    let pos = 0;
    while (this.waiting.length && (r = parse(this.buf, pos))) {
      pos = r.end;
      const { resolve, reject } = this.waiting.shift();
      if (r.value instanceof Error) reject(r.value);
      else resolve(r.value);
    }
    this.buf = this.buf.subarray(pos);
  }

  _fail(e) {
    this.closed = true;
    for (const { reject } of this.waiting.splice(0)) reject(e);
  }

  command(...args) {
    if (this.closed) return Promise.reject(new Error('redis connection closed'));
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.sock.write(encode(args));
    });
  }

  /** Several commands in one write; resolves with all replies (rejects on the first error). */
  pipeline(commands) {
    if (this.closed) return Promise.reject(new Error('redis connection closed'));
    const ps = commands.map(() => new Promise((resolve, reject) => this.waiting.push({ resolve, reject })));
    this.sock.write(commands.map(encode).join(''));
    return Promise.all(ps);
  }

  close() {
    this.closed = true;
    this.sock.destroy();
  }
}

/** INFO <section> as an object of key → string. */
async function info(conn, section) {
  const text = await conn.command('INFO', section);
  const out = {};
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && line[0] !== '#') out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

module.exports = { Resp, encode, parse, info };
