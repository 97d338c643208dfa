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
// `*` matches any current file, tagged or not.
const weakMatch = (tags, etag) => tags === '*' || (etag !== undefined && tags.some((t) => opaque(t) === opaque(etag)))
const strongMatch = (tags, etag) => tags === '*' || (etag !== undefined && !etag.startsWith('W/') && tags.some((t) => t === etag))

/** A stored value usable as a header value, or undefined (metadata is not to be trusted). */
const headerSafe = (v) => (typeof v === 'string' && /^[\t\x20-\x7e]*$/.test(v) && v.trim() !== '' ? v : undefined)

// Types a browser would run as a page on the serving origin: sandboxed unless the caller says not.
const ACTIVE = /^(text\/html|application\/xhtml\+xml|image\/svg\+xml|text\/xml|application\/xml)\b/i

// The three date forms HTTP allows (RFC 9110 §5.6.7); anything else is no date, and ignored.
const HTTP_DATE = [
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/,
  /^(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \d\d-(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d\d \d\d:\d\d:\d\d GMT$/,
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d \d{4}$/,
]
/** An HTTP date in whole seconds, or NaN. */
function httpSeconds(header) {
  if (typeof header !== 'string' || !HTTP_DATE.some((form) => form.test(header.trim()))) return NaN
  const trimmed = header.trim()
  // asctime has no zone: it is GMT.
  return Math.floor(Date.parse(/GMT$/.test(trimmed) ? trimmed : `${trimmed} GMT`) / 1000)
}

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
function quoted(etag) {
  const tag = headerSafe(etag == null ? undefined : String(etag))
  if (tag === undefined) return undefined
  return /^(W\/)?"[^"]*"$/.test(tag) ? tag : `"${tag.replace(/"/g, '')}"`
}

/**
 * What to answer: `{ status, headers, result? }`, where `result` is the open FileStreamResult whose
 * stream is the body (GET with 200 / 206 only; every other answer has released its stream).
 * `request`: `{ method, header(name) }`.
 */
async function answer(provider, key, request, options = {}) {
  const extra = options.headers ?? {}
  const plain = (status, headers = {}) => {
    const text = STATUS_CODES[status]
    return { status, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(text.length), ...headers, ...extra }, text }
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') return plain(405, { Allow: 'GET, HEAD' })
  const open = (range) => {
    const streamOptions = { ...range, responseType: options.responseType, signal: options.signal, timeout: options.timeout, parallel: options.parallel }
    return options.byExternalId ? provider.getFileStreamByExternalId(key, streamOptions) : provider.getFileStream(key, streamOptions)
  }
  const failed = (e) => {
    if (e?.name === 'AbortError') throw e
    options.onError?.(e)
    return plain(ERROR_STATUS[e?.code] ?? 500)
  }

  const range = parseRange(request.header('range'))
  // A range no file can satisfy is answered 416 only after the preconditions (RFC 9110 §13.2.2),
  // which need the file: it is opened whole.
  let unsatisfiable = range?.unsatisfiable === true
  let result
  try {
    result = await open(unsatisfiable ? undefined : range)
  } catch (e) {
    if (e?.code !== 'InvalidRange' || !range) return failed(e)
    unsatisfiable = true
    try {
      result = await open(undefined)
    } catch (e2) {
      return failed(e2)
    }
  }
  try {
    const validatorsOf = (r) => {
      const etag = quoted(r.etag)
      const modified = r.lastModified ? Math.floor(r.lastModified.getTime() / 1000) : undefined
      const headers = {}
      if (etag && options.etag !== false) headers.ETag = etag
      if (r.lastModified && options.lastModified !== false) headers['Last-Modified'] = r.lastModified.toUTCString()
      const cacheControl = options.cacheControl === undefined ? headerSafe(r.providerSpecific?.cacheControl) : options.cacheControl
      if (cacheControl) headers['Cache-Control'] = cacheControl
      return { etag, modified, headers }
    }
    let v = validatorsOf(result)

    // RFC 9110 §13.2.2: If-Match, else If-Unmodified-Since; If-None-Match, else If-Modified-Since.
    const ifMatch = request.header('if-match')
    const ifUnmodifiedSince = httpSeconds(request.header('if-unmodified-since'))
    if (ifMatch !== undefined ? !strongMatch(entityTags(ifMatch), v.etag) : v.modified !== undefined && v.modified > ifUnmodifiedSince) {
      await result.cleanup()
      return plain(412, v.headers)
    }
    const ifNoneMatch = request.header('if-none-match')
    const ifModifiedSince = httpSeconds(request.header('if-modified-since'))
    if (ifNoneMatch !== undefined ? weakMatch(entityTags(ifNoneMatch), v.etag) : v.modified !== undefined && v.modified <= ifModifiedSince) {
      await result.cleanup()
      return { status: 304, headers: { ...v.headers, ...extra } }
    }
    // If-Range: the range only if the file is still the one the client has (strong comparison,
    // or the exact Last-Modified); otherwise the whole file.
    const ifRange = request.header('if-range')?.trim()
    if (range && ifRange !== undefined) {
      const same = /^(W\/)?"/.test(ifRange) ? strongMatch([ifRange], v.etag) : v.modified !== undefined && v.modified === httpSeconds(ifRange)
      // Not the client's copy: the whole file, which an unsatisfiable range has open already.
      if (!same && unsatisfiable) unsatisfiable = false
      else if (!same) {
        await result.cleanup()
        result = await open(undefined)
        v = validatorsOf(result)
      }
    }
    if (unsatisfiable) {
      await result.cleanup()
      return plain(416, { 'Content-Range': `bytes */${result.contentLength ?? 0}`, 'Accept-Ranges': 'bytes' })
    }

    const contentType = headerSafe(result.contentType) ?? 'application/octet-stream'
    const headers = {
      ...v.headers,
      'Accept-Ranges': 'bytes',
      'Content-Type': contentType,
      'Content-Length': String(result.contentLength ?? 0),
      'X-Content-Type-Options': 'nosniff',
    }
    if (options.contentSecurityPolicy !== false && (options.contentSecurityPolicy || ACTIVE.test(contentType))) {
      headers['Content-Security-Policy'] = options.contentSecurityPolicy || "sandbox; default-src 'none'"
    }
    if (result.isPartialContent) headers['Content-Range'] = `bytes ${result.range.start}-${result.range.end}/${result.range.total}`
    if (options.disposition) {
      const name = options.filename ?? (options.byExternalId ? result.providerSpecific?.key ?? key : key).split('/').pop()
      headers['Content-Disposition'] = contentDisposition(options.disposition, name)
    }
    Object.assign(headers, extra)
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
    try {
      res.writeHead(a.status, a.headers)
    } catch (e) {
      // A header the caller gave (options.headers) that Node refuses.
      await a.result?.cleanup()
      options.onError?.(e)
      res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' })
      return res.end(STATUS_CODES[500])
    }
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
      // The path as sent: a URL parser would resolve `..` and `//` before the key check, past any
      // path-based rule in front of this handler.
      const raw = req.url.split('?', 1)[0]
      if (!options.key && !raw.startsWith('/')) throw new Error('not a path')
      key = options.key ? options.key(req) : decodeURIComponent(raw.slice(1))
    } catch {
      res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' })
      return res.end(STATUS_CODES[400])
    }
    return serveFile(provider, key, req, res, options).catch((e) => {
      options.onError?.(e)
      res.destroy()
    })
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
  try {
    return new Response(body, { status: a.status, headers: a.headers })
  } catch (e) {
    await a.result?.cleanup()
    throw e
  }
}

module.exports = { serveFile, createFileHandler, toResponse }
