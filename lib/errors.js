'use strict';
// Errors with stable codes. Native errors arrive as "[CODE] message" (see src/node/errors.rs).

const NATIVE_CODED = /^\[(ERR_[A-Z0-9_]+)\] ([\s\S]*)$/;

function celeryError(code, message, ErrorClass = Error) {
  const error = new ErrorClass(message);
  error.code = code;
  return error;
}

/** Turns an error thrown by the native binding into a JS Error with `code`. */
function fromNative(error) {
  const match = error && typeof error.message === 'string' && NATIVE_CODED.exec(error.message);
  if (!match) return error;
  return celeryError(match[1], match[2]);
}

/** Calls a native function, rethrowing its error with a `code`. */
function callNative(fn) {
  try {
    return fn();
  } catch (error) {
    throw fromNative(error);
  }
}

module.exports = { celeryError, fromNative, callNative };
