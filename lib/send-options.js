'use strict';
// Per-call options (Python's apply_async names, camelCased) → the native SendOptions shape.

const { celeryError } = require('./errors');

function invalid(name, reason) {
  return celeryError('ERR_CELERY_INVALID_OPTION', `invalid option ${name}: ${reason}`, TypeError);
}

function number(options, name) {
  const value = options[name];
  if (value == null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(name, 'must be a finite number');
  return value;
}

function timestamp(value, name) {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) throw invalid(name, 'must be a Date or an ISO 8601 string');
  return ms;
}

function sendOptions(options) {
  if (options == null) return undefined;
  if (typeof options !== 'object') throw invalid('options', 'must be an object');
  const out = {
    countdown: number(options, 'countdown'),
    priority: number(options, 'priority'),
    timeLimit: number(options, 'timeLimit'),
    softTimeLimit: number(options, 'softTimeLimit'),
    retries: number(options, 'retries'),
    shadow: options.shadow == null ? undefined : String(options.shadow),
    replyTo: options.replyTo == null ? undefined : String(options.replyTo),
    exchange: options.exchange == null ? undefined : String(options.exchange),
    routingKey: options.routingKey == null ? undefined : String(options.routingKey),
    compression: options.compression == null ? undefined : String(options.compression),
    ignoreResult: options.ignoreResult == null ? undefined : Boolean(options.ignoreResult),
  };
  if (out.priority !== undefined && !(Number.isInteger(out.priority) && out.priority >= 0 && out.priority <= 255)) {
    throw invalid('priority', 'must be an integer from 0 to 255');
  }
  // kombu's names for what we can write; others (bzip2, lzma, brotli, zstd) are refused, not
  // sent uncompressed. Checked here so that a bulk send fails before anything is queued.
  if (out.compression !== undefined && out.compression !== 'zlib' && out.compression !== 'gzip') {
    throw invalid('compression', `${out.compression} is not supported (zlib and gzip are)`);
  }
  if (options.eta != null) out.eta = timestamp(options.eta, 'eta');
  if (options.expires != null) {
    if (typeof options.expires === 'number') out.expiresIn = number(options, 'expires');
    else out.expiresAt = timestamp(options.expires, 'expires');
  }
  if (options.headers != null) {
    if (typeof options.headers !== 'object') throw invalid('headers', 'must be an object');
    out.headers = JSON.stringify(options.headers);
  }
  return out;
}

module.exports = { sendOptions };
