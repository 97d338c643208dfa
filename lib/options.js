'use strict'
// What callers pass, checked in one place at the JS boundary: provider configurations are brought
// to the types the native side declares (or refused with a clear error), so that no value reaches
// napi's converters, whose errors name Rust types.

const { storageError } = require('./errors')

/** How a value is named in an error: its type, and a short form of it. */
function describe(v) {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  if (typeof v === 'object') return 'an object'
  if (typeof v === 'string') return `the string ${JSON.stringify(v.slice(0, 40))}`
  return `${typeof v} ${String(v).slice(0, 40)}`
}

function coerce(v, type) {
  switch (type) {
    case 'string':
      if (typeof v === 'string') return v
      if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'bigint') return String(v)
      return undefined
    // Truthiness, as the original's SDK clients read these flags.
    case 'boolean':
      return Boolean(v)
    case 'number':
      if (typeof v === 'number') return v
      if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v)
      return undefined
    case 'object':
      return typeof v === 'object' && !Array.isArray(v) ? v : undefined
  }
}

/**
 * `config` with the fields of `schema` (`{ name: 'string' | 'boolean' | 'number' | 'object' }`)
 * as the native side expects them: absent ones left out, numbers given for strings (and numeric
 * strings for numbers) converted. Anything else throws `InvalidInput` naming the field; fields not
 * in the schema are dropped.
 */
function configOf(service, config, schema) {
  if (config != null && typeof config !== 'object') {
    throw storageError(`Invalid ${service} configuration: expected an object, got ${describe(config)}`, 'InvalidInput')
  }
  const out = {}
  for (const [field, type] of Object.entries(schema)) {
    const v = config?.[field]
    if (v == null) continue
    out[field] = coerce(v, type)
    if (out[field] === undefined) {
      throw storageError(`Invalid ${service} configuration ${field}: expected a ${type}, got ${describe(v)}`, 'InvalidInput')
    }
  }
  return out
}

module.exports = { configOf, describe }
