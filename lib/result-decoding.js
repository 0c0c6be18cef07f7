'use strict';

const { celeryError } = require('./errors');
// Result metas as JS values. kombu ≥ 5.3 wraps non-JSON Python types as
// {"__type__": ..., "__value__": ...} (spec §7.1); those become JS values here.

function uuidFromHex(hex) {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function reviveKombuType(_key, value) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  if (keys.length !== 2 || !('__type__' in value) || !('__value__' in value)) return value;
  const inner = value.__value__;
  switch (value.__type__) {
    case 'datetime': return new Date(inner);
    case 'uuid': return typeof inner === 'object' && inner && inner.hex ? uuidFromHex(inner.hex) : inner;
    case 'base64': return Buffer.from(inner, 'base64');
    default: return inner; // date, time, decimal, bytes: their text form
  }
}

/** Parses a stored meta; `null` stays `null` (nothing stored: PENDING). */
function parseMeta(text) {
  if (text == null) return null;
  try {
    return text.includes('"__type__"') ? JSON.parse(text, reviveKombuType) : JSON.parse(text);
  } catch (error) {
    throw celeryError('ERR_CELERY_DECODE', `cannot decode a stored result: ${error.message}`);
  }
}

module.exports = { parseMeta };
