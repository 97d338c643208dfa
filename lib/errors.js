'use strict'
// Errors handed to callers are made here, in the caller's realm (Jest's `instanceof Error` works).
// The native side prefixes its messages with `[Code] ` (src/error.rs); that becomes `error.code`.

const CODED = /^\[([A-Za-z]+)\] ([\s\S]*)$/

/**
 * @param {string} message
 * @param {string} [code]
 * @returns {Error & { code?: string }}
 */
function storageError(message, code) {
  const err = /** @type {Error & { code?: string }} */ (new Error(message))
  if (code) err.code = code
  return err
}

/** Turns an error thrown by the native binding into a realm-local Error with `code`. */
function fromNative(e) {
  if (!e || typeof e.message !== 'string') return storageError(String(e))
  const m = CODED.exec(e.message)
  return m ? storageError(m[2], m[1]) : storageError(e.message, e.code)
}

/** Awaits a native call and rethrows its failure as a realm-local Error. */
async function call(promiseOrFn) {
  try {
    return await (typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn)
  } catch (e) {
    throw fromNative(e)
  }
}

module.exports = { storageError, fromNative, call }
