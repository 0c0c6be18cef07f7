'use strict';
// Task arguments as JSON text, refusing what JSON cannot carry instead of dropping it silently.
// `Date`s travel as kombu sends Python datetimes (`{"__type__": "datetime", ...}`, which Celery
// ≥ 5.3 workers turn back into datetimes), and `BigInt`s as plain JSON integers.

const { randomUUID } = require('node:crypto');
const { celeryError } = require('./errors');

/** `datetime.isoformat()` of an aware UTC datetime: six fraction digits and `+00:00`. */
function pythonIsoformat(date) {
  return `${date.toISOString().slice(0, 23)}000+00:00`;
}

/**
 * Whether `value` holds only what `JSON.stringify` writes the same with or without the replacer:
 * strings, numbers, booleans, null, and arrays and plain objects of those, a few levels deep.
 * Most task arguments are; they skip the replacer, which makes stringifying several times slower.
 */
function plain(value, depth) {
  if (value === null) return true;
  const type = typeof value;
  if (type === 'string' || type === 'number' || type === 'boolean') return true;
  if (type !== 'object' || depth > 3) return false;
  if (Array.isArray(value)) {
    if (value.length > 64) return false;
    for (let i = 0; i < value.length; i++) if (!plain(value[i], depth + 1)) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  let count = 0;
  for (const key in value) {
    if (++count > 64 || !plain(value[key], depth + 1)) return false;
  }
  return true;
}

/** JSON text of `value`; a TypeError with code ERR_CELERY_NOT_JSON for functions, symbols, cycles. */
function toJson(value, what, options) {
  if (plain(value, 0)) return JSON.stringify(value);
  const dates = (options && options.dates) || 'datetime';
  let bigints = null;
  function replacer(key, item) {
    const type = typeof item;
    if (type === 'string' && dates === 'datetime' && this[key] instanceof Date) {
      return { __type__: 'datetime', __value__: pythonIsoformat(this[key]) };
    }
    if (type === 'bigint') {
      // A marker string, swapped for the bare digits once the text is written.
      bigints = bigints || `\u0000bigint:${randomUUID()}:`;
      return `${bigints}${item}`;
    }
    if (type === 'function' || type === 'symbol') {
      throw celeryError('ERR_CELERY_NOT_JSON', `cannot send a ${type} as a task argument${key ? ` (at key "${key}")` : ''}`, TypeError);
    }
    return item;
  }
  let text;
  try {
    text = JSON.stringify(value, replacer);
  } catch (error) {
    if (error.code === 'ERR_CELERY_NOT_JSON') throw error;
    throw celeryError('ERR_CELERY_NOT_JSON', `${what} cannot be sent as JSON: ${error.message}`, TypeError);
  }
  if (bigints) {
    const marker = JSON.stringify(bigints).slice(1, -1);
    text = text.split(`"${marker}`).map((part, i) => (i === 0 ? part : part.replace('"', ''))).join('');
  }
  return text;
}

module.exports = { toJson };
