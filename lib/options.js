'use strict'
// What callers pass, checked in one place at the JS boundary: provider configurations are brought
// to the types the native side declares (or refused with a clear error), so that no value reaches
// napi's converters, whose errors name Rust types.

const { invalid, storageError } = require('./errors')

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
    throw invalid(`Invalid ${service} configuration: expected an object, got ${describe(config)}`)
  }
  const out = {}
  for (const [field, type] of Object.entries(schema)) {
    const v = config?.[field]
    if (v == null) continue
    out[field] = coerce(v, type)
    if (out[field] === undefined) {
      throw invalid(`Invalid ${service} configuration ${field}: expected a ${type}, got ${describe(v)}`)
    }
  }
  return out
}

const PARALLEL_FIELDS = ['partSize', 'connections', 'threshold', 'singleWithinMs']

/** What each kind of option must be, and how an error names it. */
const KINDS = {
  string: [(v) => typeof v === 'string', 'a string'],
  boolean: [(v) => typeof v === 'boolean', 'a boolean'],
  number: [(v) => typeof v === 'number', 'a number'],
  count: [(v) => Number.isSafeInteger(v) && v >= 0, 'a non-negative integer'],
  strings: [(v) => Array.isArray(v) && v.every((x) => typeof x === 'string'), 'an array of strings'],
  record: [(v) => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string'), 'an object of strings'],
  function: [(v) => typeof v === 'function', 'a function'],
  signal: [(v) => typeof v?.throwIfAborted === 'function' && typeof v.addEventListener === 'function', 'an AbortSignal'],
  date: [(v) => typeof v?.getTime === 'function' || typeof v === 'string' || typeof v === 'number', 'a Date'],
  parallel: [(v) => typeof v === 'boolean' || isParallel(v), `false, true or { ${PARALLEL_FIELDS.map((f) => `${f}?`).join(', ')} } of numbers`],
}

function isParallel(v) {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && PARALLEL_FIELDS.every((f) => v[f] === undefined || typeof v[f] === 'number')
}

/**
 * A stream's parallel-read settings for the native side: the call's `parallel` over the
 * provider's (each `false`, `true` or an object of settings, on unless one says `false`); `null`
 * when turned off, else the settings given (`{}`: the defaults). Values are range-checked natively.
 */
function parallelOf(configured, given) {
  if ((given ?? configured) === false) return null
  const pick = (v) => (isParallel(v) ? Object.fromEntries(PARALLEL_FIELDS.filter((f) => v[f] !== undefined).map((f) => [f, v[f]])) : {})
  return { ...pick(configured), ...pick(given) }
}

/**
 * A provider configuration's transfer settings, checked (`InvalidInput` naming the field when one is
 * wrong): `parallel` for its streams and `partsInFlight`, the default of its uploads' option.
 */
function transferOf(service, config) {
  const { parallel, partsInFlight } = config ?? {}
  if (parallel != null && !KINDS.parallel[0](parallel)) {
    throw invalid(`Invalid ${service} configuration parallel: expected ${KINDS.parallel[1]}, got ${describe(parallel)}`)
  }
  if (partsInFlight != null && !(Number.isInteger(partsInFlight) && partsInFlight >= 1 && partsInFlight <= 64)) {
    throw invalid(`Invalid ${service} configuration partsInFlight: expected a whole number from 1 to 64, got ${describe(partsInFlight)}`)
  }
  return { parallel: parallel ?? undefined, partsInFlight: partsInFlight ?? undefined }
}

/**
 * The options of one call, checked against `schema` (`{ name: kind }`, kinds as in KINDS) before
 * anything reaches the native side: `options` may be null or undefined (no options); a field that
 * is set (not undefined) with the wrong type throws `InvalidInput` naming it and its value. Range
 * checks beyond the type are the native side's (they need the file or the service).
 */
function checkOptions(options, schema) {
  if (options == null) return {}
  if (typeof options !== 'object') throw invalid(`Invalid options: expected an object, got ${describe(options)}`)
  for (const [field, kind] of Object.entries(schema)) {
    const v = options[field]
    const [ok, expected] = KINDS[kind]
    if (v !== undefined && !ok(v)) throw invalid(`Invalid ${field}: expected ${expected}, got ${describe(v)}`)
  }
  return options
}

/** The schemas of the methods' options. */
const STREAM_OPTIONS = { start: 'number', end: 'number', suffix: 'number', responseType: 'string', signal: 'signal', timeout: 'count', includeMetadata: 'boolean', parallel: 'parallel' }
const UPLOAD_OPTIONS = {
  external_id: 'string',
  key: 'string',
  filename: 'string',
  contentType: 'string',
  bucket: 'string',
  public: 'boolean',
  metadata: 'record',
  size: 'count',
  partsInFlight: 'count',
  signal: 'signal',
  onProgress: 'function',
}
const LIST_OPTIONS = {
  limit: 'number',
  offset: 'number',
  continuationToken: 'string',
  prefix: 'string',
  keyPattern: 'string',
  externalIdPrefix: 'string',
  externalIdPattern: 'string',
  externalIds: 'strings',
  contentType: 'string',
  contentTypePrefix: 'string',
  filename: 'string',
  filenamePattern: 'string',
  minSize: 'number',
  maxSize: 'number',
  createdAfter: 'date',
  createdBefore: 'date',
  modifiedAfter: 'date',
  modifiedBefore: 'date',
  metadata: 'record',
  hasMetadata: 'strings',
  sortBy: 'string',
  sortOrder: 'string',
  includeMetadata: 'boolean',
  includeUrls: 'boolean',
  query: 'string',
  searchFields: 'strings',
  caseSensitive: 'boolean',
  exactMatch: 'boolean',
  onlyPublic: 'boolean',
  onlyPrivate: 'boolean',
  includeDeleted: 'boolean',
}
const URL_OPTIONS = { disposition: 'string' }

/** A key, external id or visibility argument: a string. */
function checkString(name, v, code = 'InvalidInput') {
  if (typeof v !== 'string') throw storageError(`Invalid ${name}: expected a string, got ${describe(v)}`, code)
  return v
}

module.exports = { configOf, describe, checkOptions, checkString, parallelOf, transferOf, STREAM_OPTIONS, UPLOAD_OPTIONS, LIST_OPTIONS, URL_OPTIONS }
