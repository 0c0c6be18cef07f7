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

/** JSON text of `value`; a TypeError with code ERR_CELERY_NOT_JSON for functions, symbols, cycles. */
function toJson(value, what, { dates = 'datetime' } = {}) {
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

module.exports = { toJson, pythonIsoformat };
