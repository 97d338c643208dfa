'use strict'
// Plain values from the native side → the original's result shapes, with Dates made here.

const { invalid } = require('./errors')

function toDate(ms) {
  return ms == null ? undefined : new Date(ms)
}

/** `StorageFileInfo` from a native file record. */
function toFileInfo(r) {
  return {
    external_id: r.external_id,
    key: r.key,
    url: r.url,
    size: r.size,
    contentType: r.contentType,
    lastModified: toDate(r.lastModifiedMs),
    etag: r.etag ?? undefined,
    metadata: r.metadata ?? undefined,
    visibility: r.visibility ?? undefined,
    publicUrl: r.publicUrl ?? undefined,
  }
}

/** `ListFilesResult` from a native list result. */
function toListResult(r, startedAt) {
  const out = {
    files: r.files.map(toFileInfo),
    hasMore: r.hasMore,
    searchTime: Date.now() - startedAt,
  }
  if (r.totalCount != null) out.totalCount = r.totalCount
  if (r.nextOffset != null) out.nextOffset = r.nextOffset
  if (r.continuationToken != null) out.continuationToken = r.continuationToken
  return out
}

const DATE_FIELDS = ['createdAfter', 'createdBefore', 'modifiedAfter', 'modifiedBefore']

function toMillis(name, d) {
  // Duck-typed: a Date from another realm (Jest) fails `instanceof Date`.
  const ms = typeof d?.getTime === 'function' ? d.getTime() : typeof d === 'string' ? Date.parse(d) : d
  if (typeof ms !== 'number' || Number.isNaN(ms)) throw invalid(`${name} must be a valid Date`)
  return ms
}

/** ListFilesOptions / SearchFilesOptions → the native shape (dates as epoch ms). */
function toListOptions(options = {}) {
  const out = { ...options }
  for (const name of DATE_FIELDS) {
    if (out[name] != null) out[name] = toMillis(name, out[name])
  }
  return out
}

/** Buffer view of any chunk a Node or Web stream may yield. */
function toBuffer(chunk) {
  if (Buffer.isBuffer(chunk)) return chunk
  if (typeof chunk === 'string') return Buffer.from(chunk)
  if (ArrayBuffer.isView(chunk)) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
  if (chunk instanceof ArrayBuffer) return Buffer.from(chunk)
  throw invalid(`Unsupported chunk type: ${typeof chunk}`)
}

/** `FileVisibilityResult` without the fields the native side left empty. */
function visibilityResult({ publicUrl, publicUrlExpiresAtMs, providerSpecific, ...rest }) {
  return {
    ...rest,
    // `null` stays: CrunchyCone passes its API's null through, as the original does.
    ...(publicUrl !== undefined ? { publicUrl } : {}),
    ...(publicUrlExpiresAtMs != null ? { publicUrlExpiresAt: toDate(publicUrlExpiresAtMs) } : {}),
    ...(providerSpecific != null ? { providerSpecific } : {}),
  }
}

/** `FileVisibilityStatus` without an empty `publicUrl`. */
function visibilityStatus({ publicUrl, ...status }) {
  return publicUrl != null ? { ...status, publicUrl } : status
}

module.exports = { toDate, toFileInfo, toListResult, toListOptions, toBuffer, visibilityResult, visibilityStatus }
