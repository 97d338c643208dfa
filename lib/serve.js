'use strict'
// Serving stored files over HTTP from any provider, as `send` serves local files: one range
// (first, open-ended or suffix) → 206, unsatisfiable → 416, conditional requests → 304 / 412,
// If-Range, HEAD, validators and caching headers, Content-Disposition. `answer()` decides; the
// Node (`serveFile`, `createFileHandler`) and Web (`toResponse`) front ends only write what it
// decided. The provider stream is cancelled as soon as the client goes away.

const { STATUS_CODES } = require('node:http')
const { pipeline } = require('node:stream/promises')

/** Status for a failed open, by error code; anything else is the server's fault. */
const ERROR_STATUS = { NotFound: 404, InvalidKey: 400, InvalidInput: 400, Timeout: 504, Provider: 502 }

/**
 * The one range of a `Range` header, as getFileStream options; `undefined` for no range, one that
 * is malformed or several (answered with the whole body, as `send` does); `{ unsatisfiable }` for
 * a range no file can satisfy (a suffix of 0 bytes).
 */
function parseRange(header) {
  if (typeof header !== 'string') return undefined
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.replace(/[ \t]/g, ''))
  if (!m || (m[1] === '' && m[2] === '')) return undefined
  // Offsets beyond 2^53 are past every file: a start there is unsatisfiable, an end is the end.
  const number = (s) => (s === '' ? undefined : Number(s))
  const safe = (n) => (Number.isSafeInteger(n) ? n : Number.MAX_SAFE_INTEGER)
  const [start, end] = [number(m[1]), number(m[2])]
  if (start === undefined) return end === 0 ? { unsatisfiable: true } : { suffix: safe(end) }
  if (!Number.isSafeInteger(start)) return { unsatisfiable: true }
  if (end === undefined || !Number.isSafeInteger(end)) return { start }
  return end < start ? undefined : { start, end }
}

/** The entity tags of an `If-Match` / `If-None-Match` list, or `'*'`. */
function entityTags(header) {
  if (header.trim() === '*') return '*'
  return header.match(/(?:W\/)?"[^"]*"/g) ?? []
}
const opaque = (tag) => tag.replace(/^W\//, '')
const weakMatch = (tags, etag) => etag !== undefined && (tags === '*' || tags.some((t) => opaque(t) === opaque(etag)))
const strongMatch = (tags, etag) =>
  etag !== undefined && (tags === '*' || (!etag.startsWith('W/') && tags.some((t) => t === etag)))

/** An HTTP date in whole seconds, or NaN. */
const httpSeconds = (header) => Math.floor(Date.parse(header) / 1000)

/** `key`'s last segment, or `filename`, as a Content-Disposition value safe in any header. */
function contentDisposition(type, filename) {
  const name = String(filename).replace(/[\x00-\x1f\x7f]/g, '')
  const fallback = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_')
  let value = `${type}; filename="${fallback}"`
  if (fallback !== name) {
    const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    value += `; filename*=UTF-8''${encoded}`
  }
  return value
}

/** An ETag header value: a provider's tag, quoted when it is not already. */
const quoted = (etag) => (etag == null ? undefined : /^(W\/)?".*"$/.test(etag) ? etag : `"${String(etag).replace(/"/g, '')}"`)

/**
 * What to answer: `{ status, headers, result? }`, where `result` is the open FileStreamResult whose
 * stream is the body (GET with 200 / 206 only; every other answer has released its stream).
 * `request`: `{ method, header(name) }`.
 */
async function answer(provider, key, request, options = {}) {
  const plain = (status, headers = {}) => {
    const text = STATUS_CODES[status]
    return { status, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(text.length), ...headers }, text }
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') return plain(405, { Allow: 'GET, HEAD' })
  const open = (range) => {
    const streamOptions = { ...range, responseType: options.responseType, signal: options.signal, timeout: options.timeout }
    return options.byExternalId ? provider.getFileStreamByExternalId(key, streamOptions) : provider.getFileStream(key, streamOptions)
  }
  const failed = (e) => {
    if (e?.name === 'AbortError') throw e
    options.onError?.(e)
    return plain(ERROR_STATUS[e?.code] ?? 500)
  }
  const unsatisfiable = async () => {
    // The size for `Content-Range: bytes */size` comes from opening the whole file.
    let whole
    try {
      whole = await open({})
    } catch (e) {
      return failed(e)
    }
    await whole.cleanup()
    return plain(416, { 'Content-Range': `bytes */${whole.contentLength ?? 0}`, 'Accept-Ranges': 'bytes' })
  }

  let range = parseRange(request.header('range'))
  if (range?.unsatisfiable) return unsatisfiable()
  let result
  try {
    result = await open(range)
  } catch (e) {
    if (e?.code === 'InvalidRange' && range) return unsatisfiable()
    return failed(e)
  }
  try {
    const etag = quoted(result.etag)
    const modified = result.lastModified ? Math.floor(result.lastModified.getTime() / 1000) : undefined
    const validators = {}
    if (etag && options.etag !== false) validators.ETag = etag
    if (result.lastModified && options.lastModified !== false) validators['Last-Modified'] = result.lastModified.toUTCString()
    const cacheControl = options.cacheControl === undefined ? result.providerSpecific?.cacheControl : options.cacheControl
    if (cacheControl) validators['Cache-Control'] = cacheControl

    // RFC 9110 §13.2.2: If-Match, else If-Unmodified-Since; If-None-Match, else If-Modified-Since.
    const ifMatch = request.header('if-match')
    const ifUnmodifiedSince = httpSeconds(request.header('if-unmodified-since'))
    if (ifMatch !== undefined ? !strongMatch(entityTags(ifMatch), etag) : modified !== undefined && modified > ifUnmodifiedSince) {
      await result.cleanup()
      return plain(412, validators)
    }
    const ifNoneMatch = request.header('if-none-match')
    const ifModifiedSince = httpSeconds(request.header('if-modified-since'))
    if (ifNoneMatch !== undefined ? weakMatch(entityTags(ifNoneMatch), etag) : modified !== undefined && modified <= ifModifiedSince) {
      await result.cleanup()
      return { status: 304, headers: validators }
    }
    // If-Range: the range only if the file is still the one the client has (strong comparison,
    // or the exact Last-Modified); otherwise the whole file.
    const ifRange = request.header('if-range')
    if (range && ifRange !== undefined) {
      const same = /^(W\/)?"/.test(ifRange.trim()) ? strongMatch([ifRange.trim()], etag) : modified !== undefined && modified === httpSeconds(ifRange)
      if (!same) {
        range = undefined
        await result.cleanup()
        result = await open(undefined)
      }
    }

    const headers = {
      ...validators,
      'Accept-Ranges': 'bytes',
      'Content-Type': result.contentType,
      'Content-Length': String(result.contentLength ?? 0),
      'X-Content-Type-Options': 'nosniff',
    }
    if (result.isPartialContent) headers['Content-Range'] = `bytes ${result.range.start}-${result.range.end}/${result.range.total}`
    if (options.disposition) headers['Content-Disposition'] = contentDisposition(options.disposition, options.filename ?? key.split('/').pop())
    Object.assign(headers, options.headers)
    const status = result.isPartialContent ? 206 : 200
    if (request.method === 'HEAD') {
      await result.cleanup()
      return { status, headers }
    }
    return { status, headers, result }
  } catch (e) {
    await result.cleanup()
    return failed(e)
  }
}

/**
 * Answers the Node `req` with `key` from `provider` on `res` (http, Express, Koa's `ctx.req/res`,
 * Fastify's `reply.raw`). Resolves when the answer is complete or the client has gone.
 */
async function serveFile(provider, key, req, res, options = {}) {
  // The client going away (before or during the body) cancels the provider's stream at once.
  const gone = new AbortController()
  const onClose = () => !res.writableFinished && gone.abort()
  res.once('close', onClose)
  const header = (name) => {
    const v = req.headers[name]
    return Array.isArray(v) ? v.join(', ') : v
  }
  try {
    const a = await answer(provider, key, { method: req.method, header }, { ...options, signal: gone.signal, responseType: 'node' })
    if (res.destroyed) return a.result?.cleanup()
    res.writeHead(a.status, a.headers)
    if (!a.result) return res.end(req.method === 'HEAD' ? undefined : a.text)
    try {
      await pipeline(a.result.stream, res)
    } catch {
      // A client that left, or a stream that failed mid-body: the response is cut, never ended
      // cleanly short (pipeline destroys `res`).
    } finally {
      await a.result.cleanup()
    }
  } catch (e) {
    if (e?.name !== 'AbortError') throw e
  } finally {
    res.off('close', onClose)
  }
}

/**
 * A Node request handler serving `provider`'s files: the key is the request path (relative to
 * where the handler is mounted, percent-decoded) unless `options.key(req)` says otherwise.
 */
function createFileHandler(provider, options = {}) {
  return function handle(req, res) {
    let key
    try {
      key = options.key ? options.key(req) : decodeURIComponent(new URL(req.url, 'http://x').pathname.slice(1))
    } catch {
      res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' })
      return res.end(STATUS_CODES[400])
    }
    return serveFile(provider, key, req, res, options)
  }
}

/** A Web `Response` for the Web `request` with `key` from `provider` (fetch-style servers). */
async function toResponse(provider, key, request, options = {}) {
  const a = await answer(provider, key, { method: request.method, header: (name) => request.headers.get(name) ?? undefined }, {
    ...options,
    signal: request.signal,
    responseType: 'web',
  })
  const body = a.result ? a.result.stream : a.status === 304 || request.method === 'HEAD' ? null : a.text
  return new Response(body, { status: a.status, headers: a.headers })
}

module.exports = { serveFile, createFileHandler, toResponse, parseRange }
