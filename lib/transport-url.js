'use strict';
// Which transport a URL names, and celery-node's ioredis-style options as the native layer reads
// them.

const { celeryError } = require('./errors');

function schemeOf(url) {
  const match = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(String(url));
  return match ? match[1].toLowerCase() : String(url);
}

function unsupported(url) {
  return celeryError('ERR_CELERY_UNSUPPORTED_SCHEME', `Unsupported type: ${schemeOf(url)}`);
}

function pemText(value) {
  if (value == null) return undefined;
  if (Array.isArray(value)) return value.map(pemText).join('\n');
  return Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
}

/** The options object → JSON for the native side; functions are read, not sent. */
function redisOptionsJson(options) {
  if (!options || typeof options !== 'object') return undefined;
  const { password, username, db, connectTimeout, tls, resultExpiresSecs } = options;
  const out = { password, username, db, connectTimeout, resultExpiresSecs };
  if (tls && typeof tls === 'object') {
    out.tls = {
      ca: pemText(tls.ca),
      cert: pemText(tls.cert),
      key: pemText(tls.key),
      rejectUnauthorized: tls.rejectUnauthorized,
      skipHostnameCheck: typeof tls.checkServerIdentity === 'function' ? true : undefined,
    };
  }
  return JSON.stringify(out);
}

/**
 * amqplib's socket options (`ca`, `cert`, `key`, `timeout`, ...) plus the topology settings
 * (`queueArguments`, `passive`) → JSON for the native side.
 */
function amqpOptionsJson(options) {
  if (!options || typeof options !== 'object') return undefined;
  const { timeout, connectTimeout, heartbeat, queueArguments, passive, connectionName, declareReplyQueue, replyQueueExpires, resultExpires, nativeDelayedDelivery } = options;
  return JSON.stringify({
    servername: options.servername,
    rejectUnauthorized: options.rejectUnauthorized,
    ca: pemText(options.ca),
    cert: pemText(options.cert),
    key: pemText(options.key),
    timeout,
    connectTimeout,
    heartbeat,
    queueArguments,
    passive,
    connectionName,
    declareReplyQueue,
    replyQueueExpires,
    resultExpires,
    nativeDelayedDelivery,
  });
}

module.exports = { schemeOf, unsupported, redisOptionsJson, amqpOptionsJson };
