'use strict'
// Every error a method or a constructor throws is made here: a StorageError (the class the package
// exports, in the caller's realm, so `instanceof` works under Jest too) with a stable `code` from
// the list in the README. The native side prefixes its messages with `[Code] `, or `[Code 403] `
// when a service answered with an HTTP status (src/error.rs); that becomes `error.code` and
// `error.status`. A caller's abort is the exception: it rejects with the signal's reason.

const { StorageError } = require('./utils')

const CODED = /^\[([A-Za-z]+)(?: (\d{3}))?\] ([\s\S]*)$/

/** The HTTP status a service would answer a client with, for each code (`statusCode`). */
const STATUS = {
  NotFound: 404,
  BucketNotFound: 404,
  InvalidKey: 400,
  InvalidInput: 400,
  InvalidRange: 416,
  Unauthorized: 401,
  Forbidden: 403,
  Timeout: 504,
  Aborted: 499,
  Truncated: 502,
  Unavailable: 503,
  Conflict: 412,
  Provider: 502,
  Io: 500,
}

/**
 * @param {string} message
 * @param {string} [code] one of STATUS's keys; `Provider` when not given
 * @param {unknown} [cause] the underlying error, if any
 * @returns {Error & { code: string, statusCode: number }}
 */
function storageError(message, code = 'Provider', cause) {
  const err = new StorageError(message, code, STATUS[code] ?? 500, cause instanceof Error ? cause : undefined)
  if (cause !== undefined) err.cause = cause
  return err
}

/** `e` (a StorageError) reworded: the same code, status and cause. */
function reworded(e, message) {
  const err = storageError(message, e.code, e.cause)
  if (e.status !== undefined) err.status = e.status
  return err
}

/** A caller's bad input: `InvalidInput`, naming the option and what it was given. */
function invalid(message) {
  return storageError(message, 'InvalidInput')
}

/** Turns an error thrown by the native binding into a StorageError with `code`. */
function fromNative(e) {
  if (e instanceof StorageError) return e
  if (!e || typeof e.message !== 'string') return storageError(String(e))
  const m = CODED.exec(e.message)
  if (m) {
    const err = storageError(m[3], m[1])
    if (m[2]) err.status = Number(m[2])
    return err
  }
  // napi's own argument conversion (`NumberExpected`, `InvalidArg`, …): a value of the wrong type.
  if (typeof e.code === 'string' && /Expected$|^InvalidArg$/.test(e.code)) return storageError(e.message, 'InvalidInput', e)
  return storageError(e.message, 'Provider', e)
}

/** Awaits a native call and rethrows its failure as a StorageError. */
async function call(promiseOrFn) {
  try {
    return await (typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn)
  } catch (e) {
    throw fromNative(e)
  }
}

module.exports = { storageError, reworded, invalid, fromNative, call }
