'use strict';
// Result metas as JS values. By default exactly `JSON.parse` (celery-node's reading); on request,
// kombu's markers for non-JSON Python types (`{"__type__": ..., "__value__": ...}`, spec §7.1)
// become JS values, and integers beyond 2^53 become BigInts instead of losing precision.

const { randomUUID } = require('node:crypto');
const { celeryError } = require('./errors');

function uuidFromHex(hex) {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function kombuValue(value) {
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

/**
 * The text with every integer literal beyond `Number.MAX_SAFE_INTEGER` (outside strings) turned
 * into a string starting with `mark`, for the reviver to make a BigInt of.
 */
function markBigIntegers(text, mark) {
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (c === '"') {
      for (i += 1; i < text.length && text[i] !== '"'; i += 1) if (text[i] === '\\') i += 1;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      let end = i + 1;
      while (end < text.length && /[0-9.eE+-]/.test(text[end])) end += 1;
      const literal = text.slice(i, end);
      if (/^-?\d+$/.test(literal) && !Number.isSafeInteger(Number(literal))) {
        out += `${text.slice(from, i)}${JSON.stringify(mark + literal)}`;
        from = end;
      }
      i = end - 1;
    }
  }
  return out + text.slice(from);
}

/**
 * Parses a stored meta; `null` stays `null` (nothing stored: PENDING).
 * @param {{ decodeTypes?: boolean, bigInt?: boolean }} [decoding]
 */
/** Marks big integers while parsing; random per process, so stored text cannot forge it. */
const mark = `\u0000bigint:${randomUUID()}:`;

function parseMeta(text, decoding = {}) {
  if (text == null) return null;
  const types = decoding.decodeTypes && text.includes('"__type__"');
  const bigInt = decoding.bigInt && /\d{16}/.test(text);
  try {
    if (!types && !bigInt) return JSON.parse(text);
    const reviver = (_key, value) => {
      if (bigInt && typeof value === 'string' && value.startsWith(mark)) return BigInt(value.slice(mark.length));
      return types ? kombuValue(value) : value;
    };
    return JSON.parse(bigInt ? markBigIntegers(text, mark) : text, reviver);
  } catch (error) {
    throw celeryError('ERR_CELERY_DECODE', `cannot decode a stored result: ${error.message}`);
  }
}

module.exports = { parseMeta };
