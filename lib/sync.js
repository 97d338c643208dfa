'use strict'
// The original's `./storage/sync`: copying files between two providers by external id.
// It only orchestrates provider methods. Fixed defects (README, "Compatibility notes"): files are
// streamed from one provider to the other instead of held in memory, listings page with
// continuationToken, an overwrite removes the destination's old copy when its key differs, two-way
// syncs count skips, getSyncStatus only calls a file a conflict when its content may differ, and
// nothing is logged to the console.

const { Readable } = require('node:stream')

const FILTERS = ['prefix', 'externalIds', 'contentType', 'contentTypePrefix', 'minSize', 'maxSize']

/**
 * Every file of `provider` that matches `filter`, page by page: by continuationToken where the
 * provider gives one, else by offset. A listing that stops advancing is an error, never a short
 * list (orphans are deleted by what is missing from it).
 */
async function listAll(provider, filter) {
  const options = { limit: 1000 }
  for (const name of FILTERS) if (filter?.[name] !== undefined) options[name] = filter[name]
  const files = []
  const tokens = new Set()
  let token
  let offset = 0
  for (;;) {
    const page = await provider.listFiles(token === undefined ? { ...options, offset } : { ...options, continuationToken: token })
    files.push(...page.files)
    if (!page.hasMore) return files
    offset += page.files.length
    token = page.continuationToken || undefined
    if (token === undefined ? page.files.length === 0 : tokens.has(token)) {
      throw new Error('Failed to list files: the listing did not advance')
    }
    if (token !== undefined) tokens.add(token)
  }
}

/** The source file's bytes as a Node stream: its own stream where it has one, else its URL. */
async function contentOf(source, externalId) {
  if (typeof source.getFileStreamByExternalId === 'function') {
    const { stream } = await source.getFileStreamByExternalId(externalId, { responseType: 'node' })
    if (!stream) throw new Error(`Failed to get file stream for ${externalId}`)
    return stream
  }
  const response = await fetch(await source.getFileUrlByExternalId(externalId))
  if (!response.ok) throw new Error(`Failed to download file: ${response.status} ${response.statusText}`)
  // A 2xx without a body (204) is an empty file, as the original copied it.
  return response.body ? Readable.fromWeb(response.body) : Readable.from([])
}

/**
 * Copies one file with the original's provenance metadata. Resolves with a note when the
 * destination's old copy (under another key) could not be removed.
 */
async function copyFile(source, destination, file, existing) {
  let visibility = 'private'
  try {
    if ((await source.getFileVisibilityByExternalId(file.external_id)).visibility === 'public') visibility = 'public'
  } catch {}
  const metadata = {
    ...file.metadata,
    _synced_from: source.constructor.name,
    _synced_at: new Date().toISOString(),
    _original_size: String(file.size),
    _original_content_type: file.contentType,
    _original_key: file.key,
    ...(file.lastModified ? { _original_last_modified: new Date(file.lastModified).toISOString() } : {}),
    ...(file.etag ? { _original_etag: file.etag } : {}),
    ...(file.url ? { _original_url: file.url } : {}),
    _original_visibility: visibility,
  }
  const stream = await contentOf(source, file.external_id)
  let result
  try {
    result = await destination.uploadFile({
      stream,
      external_id: file.external_id,
      key: file.key,
      filename: file.key.split('/').pop(),
      contentType: file.contentType,
      size: file.size,
      public: visibility === 'public',
      metadata,
    })
  } catch (e) {
    stream.destroy() // an upload that failed before reading it must not keep the source open
    throw e
  }
  // An overwrite whose key changed leaves no second copy of the id behind.
  if (existing && existing.key !== result.key && existing.key !== file.key) {
    try {
      await destination.deleteFile(existing.key)
    } catch (e) {
      return `copied, but the previous copy at ${existing.key} could not be removed: ${messageOf(e)}`
    }
  }
  return undefined
}

const messageOf = (e) => (e instanceof Error ? e.message : 'Unknown error')

/** Whether a file present on both sides should be copied, by the conflict rule. */
function shouldCopy(rule = 'skip', file, existing) {
  const time = (f) => (f.lastModified ? new Date(f.lastModified).getTime() : 0)
  switch (rule) {
    case 'overwrite':
      return true
    case 'newest-wins':
      return time(file) > time(existing)
    case 'largest-wins':
      return file.size > existing.size
    default:
      return false
  }
}

async function syncOne(options, source, destination, file) {
  const base = { external_id: file.external_id, key: file.key, size: file.size }
  try {
    const existing = await destination.findFileByExternalId(file.external_id)
    if (existing && !shouldCopy(options.conflictResolution, file, existing)) {
      return { ...base, action: 'skipped', reason: 'File exists in destination and conflict resolution says skip' }
    }
    const note = options.dryRun ? undefined : await copyFile(source, destination, file, existing)
    return { ...base, action: 'copied', ...(note ? { reason: note } : {}) }
  } catch (e) {
    report(options, { external_id: file.external_id, key: file.key, error: messageOf(e), phase: 'copy' })
    return { ...base, action: 'error', error: messageOf(e) }
  }
}

/** Tells the caller's onError, which must not stop the sync by throwing. */
function report(options, error) {
  try {
    options.onError?.(error)
  } catch {}
}

/** Copies the source's files to the destination (and back, two-way), as the original does. */
async function syncStorageProviders(options) {
  const { source, destination, filter, direction = 'one-way', dryRun = false, deleteOrphaned = false } = options
  const started = Date.now()
  const progress = { phase: 'scanning', totalFiles: 0, processedFiles: 0, copiedFiles: 0, skippedFiles: 0, deletedFiles: 0, errors: 0 }
  const emit = (changes) => {
    Object.assign(progress, changes)
    options.onProgress?.({ ...progress })
  }
  const details = []
  const record = (result) => {
    details.push(result)
    if (result.action === 'copied') progress.copiedFiles++
    else if (result.action === 'skipped') progress.skippedFiles++
    else if (result.action === 'deleted') progress.deletedFiles++
    else progress.errors++
    options.onFileComplete?.(result)
  }

  emit({})
  const files = await listAll(source, filter)
  emit({ phase: 'syncing', totalFiles: files.length })
  const batchSize = Math.max(1, options.batchSize || 10)
  for (let i = 0; i < files.length; i += batchSize) {
    const batch = files.slice(i, i + batchSize)
    const settled = await Promise.allSettled(batch.map((f) => syncOne(options, source, destination, f)))
    for (const s of settled) {
      record(s.status === 'fulfilled' ? s.value : { external_id: 'unknown', key: 'unknown', action: 'error', error: messageOf(s.reason) })
    }
    emit({ processedFiles: progress.processedFiles + batch.length, currentFile: batch[batch.length - 1].external_id })
  }

  if (direction === 'two-way' || deleteOrphaned) {
    delete progress.currentFile
    emit({ phase: 'cleaning' })
    const ids = new Set(files.map((f) => f.external_id))
    const destOnly = (await listAll(destination, filter)).filter((f) => !ids.has(f.external_id))
    for (const file of destOnly) {
      if (direction === 'two-way') {
        record(await syncOne(options, destination, source, file))
        continue
      }
      const base = { external_id: file.external_id, key: file.key, size: file.size }
      try {
        if (!dryRun) await destination.deleteFileByExternalId(file.external_id)
        record({ ...base, action: 'deleted' })
      } catch (e) {
        report(options, { external_id: file.external_id, key: file.key, error: messageOf(e), phase: 'delete' })
        record({ ...base, action: 'error', error: messageOf(e) })
      }
    }
  }

  delete progress.currentFile
  emit({ phase: 'complete' })
  return {
    success: progress.errors === 0,
    summary: {
      scanned: files.length,
      copied: progress.copiedFiles,
      skipped: progress.skippedFiles,
      deleted: progress.deletedFiles,
      errors: progress.errors,
      durationMs: Date.now() - started,
    },
    details,
  }
}

/** Compares a synced file on both sides; with the original's messages. */
async function verifySyncedFile(externalId, source, destination) {
  const [a, b] = await Promise.all([source.findFileByExternalId(externalId), destination.findFileByExternalId(externalId)])
  if (!a || !b) return { matched: false, differences: ['File not found in one or both providers'] }
  const differences = []
  if (a.key !== b.key) differences.push(`Key mismatch: "${a.key}" != "${b.key}"`)
  if (a.size !== b.size) differences.push(`Size mismatch: ${a.size} bytes != ${b.size} bytes`)
  if (a.contentType !== b.contentType) differences.push(`ContentType mismatch: "${a.contentType}" != "${b.contentType}"`)
  try {
    const [va, vb] = await Promise.all([source.getFileVisibilityByExternalId(externalId), destination.getFileVisibilityByExternalId(externalId)])
    if (va.visibility !== vb.visibility) differences.push(`Visibility mismatch: "${va.visibility}" != "${vb.visibility}"`)
  } catch (e) {
    differences.push(`Could not verify visibility: ${messageOf(e)}`)
  }
  for (const [k, v] of Object.entries(a.metadata ?? {})) {
    if (k.startsWith('_synced') || k.startsWith('_original')) continue
    if (b.metadata?.[k] !== v) differences.push(`Metadata["${k}"] mismatch: "${v}" != "${b.metadata?.[k]}"`)
  }
  if (!b.metadata?._synced_from) differences.push('Missing sync metadata in destination file')
  return { matched: differences.length === 0, differences }
}

/**
 * Which files are on one side, the other, or both; a file on both is a conflict when its sizes
 * differ, or when the source changed after the copy the destination holds (the original called
 * every timestamp difference a conflict, so every synced file was one).
 */
async function getSyncStatus(source, destination, filter) {
  const [src, dst] = await Promise.all([listAll(source, filter), listAll(destination, filter)])
  const byId = new Map(dst.map((f) => [f.external_id, f]))
  const srcIds = new Set(src.map((f) => f.external_id))
  const conflictDetails = []
  let inBoth = 0
  for (const f of src) {
    const d = byId.get(f.external_id)
    if (!d) continue
    inBoth++
    const copiedAt = d.metadata?._original_last_modified
    const changed = copiedAt && f.lastModified && new Date(copiedAt).getTime() !== new Date(f.lastModified).getTime()
    if (f.size !== d.size || changed) {
      conflictDetails.push({ external_id: f.external_id, sourceSize: f.size, destSize: d.size, sourceModified: f.lastModified, destModified: d.lastModified })
    }
  }
  return {
    sourceFiles: src.length,
    destFiles: dst.length,
    sourceOnly: src.length - inBoth,
    destOnly: dst.filter((f) => !srcIds.has(f.external_id)).length,
    inBoth,
    conflicts: conflictDetails.length,
    conflictDetails,
  }
}

module.exports = { syncStorageProviders, verifySyncedFile, getSyncStatus }
