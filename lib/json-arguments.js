'use strict';
// Task arguments as JSON text, refusing what JSON cannot carry instead of dropping it silently.

const { celeryError } = require('./errors');

function rejectNonJson(key, value) {
  const type = typeof value;
  if (type === 'function' || type === 'symbol') {
    throw celeryError('ERR_CELERY_NOT_JSON', `cannot send a ${type} as a task argument${key ? ` (at key "${key}")` : ''}`, TypeError);
  }
  return value;
}

/** JSON text of `value`; a TypeError with code ERR_CELERY_NOT_JSON for functions, symbols, BigInt, cycles. */
function toJson(value, what) {
  try {
    return JSON.stringify(value, rejectNonJson);
  } catch (error) {
    if (error.code === 'ERR_CELERY_NOT_JSON') throw error;
    throw celeryError('ERR_CELERY_NOT_JSON', `${what} cannot be sent as JSON: ${error.message}`, TypeError);
  }
}

module.exports = { toJson };
