'use strict'
// A local CrunchyCone storage API server for the tests (and the benchmark), written from the
// endpoint table of the original's CrunchyCone storage API: file records, the descriptor → presigned upload →
// complete flow, signed download URLs that serve bytes with Range / ETag / Last-Modified /
// Accept-Ranges and 206 / 416, visibility, paged listing, lookups by external id, API-key checks
// (401) and JSON error bodies `{error, message, details}`. Bytes live in files on disk.
//
// Test-only switches (no API key needed): POST /__faults {mode, afterBytes, delayMs, status} sets
// how the next signed downloads behave ('slow', 'stall', 'drop', 'error'); POST /__reset clears
// faults and counters; GET /__stats returns request counters.
//
// Usage: `const server = await startCrunchyConeServer({ apiKey, projectId })` → { url, close(), ... },
// or `node __test__/servers/crunchycone.js` (PORT, API_KEY, PROJECT_ID from the environment).

const http = require('node:http')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const crypto = require('node:crypto')
const { pipeline } = require('node:stream/promises')

const PAGE_MAX = 100

// `fileServerUrl`: when set, signed download URLs point at that static file server (serving `dir`
// by file id, e.g. nginx for the benchmark) instead of this process.
// `storageKeyPrefix`: the server assigns `storage_key = prefix + file_path` (as a real server may)
// and applies `path_prefix` to `file_path`.
// `signedUrlSeconds`: how long signed download URLs are valid (default 600).
function startCrunchyConeServer({ apiKey = 'test-api-key', projectId = 'proj_test', port = 0, dir, fileServerUrl, storageKeyPrefix = '', signedUrlSeconds = 600 } = {}) {
  dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'ccs-api-'))
  let secret = crypto.randomBytes(16).toString('hex')
  const files = new Map() // file_id → record
  const stats = { signedUrlRequests: 0, downloads: 0, requests: 0, listRequests: 0 }
  let faults = {}
  let nextId = 1
  let base = ''

  const send = (res, status, body, headers = {}) => {
    const text = body === undefined ? '' : JSON.stringify(body)
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers })
    res.end(text)
  }
  const fail = (res, status, error, message, details) => send(res, status, { error, message, ...(details ? { details } : {}) })
  const readJson = async (req) => {
    let text = ''
    for await (const chunk of req) text += chunk
    return text ? JSON.parse(text) : {}
  }
  const sign = (id, expires, disposition) => crypto.createHmac('sha256', secret).update(`${id}:${expires}:${disposition}`).digest('hex')
  const publicUrl = (r) => (r.visibility === 'public' ? `${base}/public/${r.file_id}` : null)
  const view = (r) => ({ ...r, public_url: publicUrl(r) })
  const byExternal = (id) => [...files.values()].find((r) => r.external_id === id)

  async function serveBytes(req, res, record, disposition) {
    stats.downloads++
    const file = path.join(dir, record.file_id)
    const size = fs.statSync(file).size // the stored bytes, whatever the record says
    const headers = {
      'Content-Type': record.content_type,
      'Accept-Ranges': 'bytes',
      ETag: `"${record.etag}"`,
      'Last-Modified': new Date(record.uploaded_at).toUTCString(),
      'Cache-Control': 'private, max-age=300',
    }
    if (disposition) headers['Content-Disposition'] = disposition
    if (faults.mode === 'error') return fail(res, faults.status || 503, 'Service Unavailable', 'Storage backend unavailable')
    const ifMatch = req.headers['if-match']
    if (ifMatch && ifMatch !== '*' && !ifMatch.split(',').map((t) => t.trim()).includes(headers.ETag)) {
      return fail(res, 412, 'Precondition Failed', 'The file changed')
    }
    let start = 0
    let end = size - 1
    let status = 200
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range || '')
    if (req.headers.range && !faults.ignoreRange) {
      if (!range || (range[1] === '' && range[2] === '')) return fail(res, 416, 'Range Not Satisfiable', 'Malformed range')
      if (range[1] === '') {
        start = Math.max(0, size - Number(range[2]))
      } else {
        start = Number(range[1])
        if (range[2] !== '') end = Math.min(Number(range[2]), size - 1)
      }
      if (start >= size || start > end) {
        res.writeHead(416, { 'Content-Range': `bytes */${size}` })
        return res.end()
      }
      status = 206
      headers['Content-Range'] = `bytes ${start}-${end}/${size}`
    }
    headers['Content-Length'] = String(end - start + 1)
    res.writeHead(status, headers)
    if (req.method === 'HEAD' || size === 0) return res.end()
    const body = fs.createReadStream(file, { start, end, highWaterMark: 1024 * 1024 })
    if (!faults.mode) return pipeline(body, res).catch(() => {})
    // Faulty delivery: first `afterBytes` bytes, then slow / stall / drop.
    let sent = 0
    for await (const chunk of body) {
      if (res.destroyed) return body.destroy()
      const room = (faults.afterBytes ?? 0) - sent
      if (room > 0) {
        // Flushed before any fault, so the client really has these bytes.
        await new Promise((resolve) => res.write(chunk.subarray(0, room), resolve))
        sent += Math.min(room, chunk.length)
        if (room >= chunk.length) continue
      }
      if (faults.mode === 'drop') return res.socket.destroy()
      if (faults.mode === 'stall') return // headers and some bytes sent, then silence
      for (let i = Math.max(0, room); i < chunk.length; i += 16 * 1024) {
        if (res.destroyed) return body.destroy()
        res.write(chunk.subarray(i, i + 16 * 1024))
        await new Promise((r) => setTimeout(r, faults.delayMs ?? 20))
      }
    }
    res.end()
  }

  async function api(req, res, url, parts) {
    // parts: path segments after /api/v1
    if (req.headers['x-api-key'] !== apiKey) return fail(res, 401, 'Unauthorized', 'Invalid or missing API key')
    // A careless backend that echoes secrets into its error bodies.
    if (faults.apiError) return fail(res, 500, 'Internal', `key ${req.headers['x-api-key']} failed at ${base}/x?signature=abc123&token=t`)
    const [storage, filesSeg, a, b, c] = parts
    if (storage !== 'storage' || filesSeg !== 'files') return fail(res, 404, 'Not Found', 'Route not found')
    const method = req.method
    if (a === undefined && method === 'POST') {
      const body = await readJson(req)
      if (body.project_id !== projectId) return fail(res, 403, 'Forbidden', 'Project not accessible with this API key')
      if (!body.file_path || typeof body.file_size !== 'number') return fail(res, 400, 'Bad Request', 'file_path and file_size are required')
      if (body.external_id && byExternal(body.external_id)) return fail(res, 409, 'Conflict', 'A file with this external_id already exists')
      const file_id = `file_${nextId++}`
      const now = new Date().toISOString()
      files.set(file_id, {
        file_id, user_id: 'user_test', project_id: body.project_id, file_path: body.file_path,
        original_filename: body.original_filename, content_type: body.content_type,
        expected_file_size: body.file_size, actual_file_size: 0, storage_key: storageKeyPrefix + body.file_path,
        upload_status: 'pending', visibility: body.visibility || 'private', external_id: body.external_id,
        metadata: body.metadata || {}, created_at: now, updated_at: now, etag: '', token: crypto.randomBytes(12).toString('hex'),
      })
      const r = files.get(file_id)
      return send(res, 201, { data: { file_id, upload_url: `${base}/upload/${file_id}?token=${r.token}`, expires_at: new Date(Date.now() + 3600_000).toISOString() } })
    }
    if (a === undefined && method === 'GET') {
      stats.listRequests++
      const q = url.searchParams
      if (q.get('project_id') !== projectId) return fail(res, 400, 'Bad Request', 'project_id is required')
      const limit = Math.min(Number(q.get('limit') ?? 100), PAGE_MAX)
      const offset = Number(q.get('offset') ?? 0)
      const fold = (s) => (q.get('case_sensitive') === 'true' ? s : s.toLowerCase())
      let list = [...files.values()].filter((r) => r.upload_status === 'completed')
      if (q.get('path_prefix')) list = list.filter((r) => (storageKeyPrefix ? r.file_path : r.storage_key).startsWith(q.get('path_prefix')))
      if (q.get('external_id')) list = list.filter((r) => (r.external_id ?? '').startsWith(q.get('external_id')))
      if (q.get('filename_search')) {
        const needle = fold(q.get('filename_search'))
        list = list.filter((r) => (q.get('search_type') === 'exact' ? fold(r.original_filename) === needle : fold(r.original_filename).includes(needle)))
      }
      list.sort((x, y) => Number(x.file_id.slice(5)) - Number(y.file_id.slice(5)))
      const page = list.slice(offset, offset + limit).map(view)
      return send(res, 200, { data: { files: page, total_count: list.length, has_more: offset + limit < list.length } })
    }
    const external = a === 'by-external-id'
    const record = external ? byExternal(decodeURIComponent(b)) : files.get(a)
    const rest = external ? c : b
    if (!record) return fail(res, 404, 'Not Found', 'File not found', { id: external ? decodeURIComponent(b) : a })
    if (rest === undefined && method === 'GET') return send(res, 200, { data: view(record) })
    if (rest === undefined && method === 'DELETE') {
      files.delete(record.file_id)
      fs.rmSync(path.join(dir, record.file_id), { force: true })
      return send(res, 204)
    }
    if (rest === 'complete' && method === 'POST') {
      const body = await readJson(req)
      const onDisk = fs.existsSync(path.join(dir, record.file_id)) ? fs.statSync(path.join(dir, record.file_id)).size : -1
      if (onDisk !== body.actual_file_size) return fail(res, 400, 'Bad Request', 'Uploaded size does not match', { expected: body.actual_file_size, actual: onDisk })
      Object.assign(record, { upload_status: 'completed', actual_file_size: onDisk, uploaded_at: new Date().toISOString(), updated_at: new Date().toISOString() })
      return send(res, 200, { success: true, data: view(record) })
    }
    if (rest === 'visibility' && method === 'PATCH') {
      const { visibility } = await readJson(req)
      if (visibility !== 'public' && visibility !== 'private') return fail(res, 400, 'Bad Request', 'visibility must be public or private')
      record.visibility = visibility
      record.updated_at = new Date().toISOString()
      return send(res, 200, { success: true, message: `File is now ${visibility}`, data: { file: { id: record.file_id, visibility, public_url: publicUrl(record) } } })
    }
    if (rest === 'download' && method === 'GET' && url.searchParams.get('returnSignedUrl') === 'true') {
      stats.signedUrlRequests++
      const disposition = url.searchParams.get('disposition') || ''
      const expires = Math.floor(Date.now() / 1000) + signedUrlSeconds
      const signedUrl = `${fileServerUrl ?? `${base}/signed`}/${record.file_id}?expires=${expires}&disposition=${disposition}&signature=${sign(record.file_id, expires, disposition)}`
      return send(res, 200, { data: { signedUrl, expiresAt: new Date(expires * 1000).toISOString() } })
    }
    return fail(res, 404, 'Not Found', 'Route not found')
  }

  const server = http.createServer(async (req, res) => {
    stats.requests++
    const url = new URL(req.url, base)
    const parts = url.pathname.split('/').filter(Boolean)
    try {
      if (parts[0] === 'api' && parts[1] === 'v1') return await api(req, res, url, parts.slice(2))
      if (parts[0] === 'upload' && req.method === 'PUT') {
        const record = files.get(parts[1])
        if (!record || url.searchParams.get('token') !== record.token) return fail(res, 403, 'Forbidden', 'Invalid upload URL')
        if (faults.putError) {
          req.resume()
          return fail(res, 500, 'Internal Server Error', 'Storage write failed')
        }
        if (faults.slowPut) {
          // Takes the body at about 1 MiB/s, in steady small steps.
          req.on('data', () => {
            req.pause()
            setTimeout(() => req.resume(), 60)
          })
        }
        const length = Number(req.headers['content-length'])
        if (!Number.isInteger(length)) return fail(res, 411, 'Length Required', 'Content-Length is required')
        const hash = crypto.createHash('md5')
        const target = fs.createWriteStream(path.join(dir, record.file_id))
        let received = 0
        req.on('data', (chunk) => {
          received += chunk.length
          hash.update(chunk)
        })
        await pipeline(req, target)
        if (received !== length) return fail(res, 400, 'Bad Request', 'Body shorter than Content-Length')
        record.upload_status = 'uploading'
        record.etag = hash.digest('hex')
        return send(res, 200, {})
      }
      if (parts[0] === 'signed' && (req.method === 'GET' || req.method === 'HEAD')) {
        const record = files.get(parts[1])
        const q = url.searchParams
        const ok = record && Number(q.get('expires')) * 1000 > Date.now() && q.get('signature') === sign(parts[1], q.get('expires'), q.get('disposition') || '')
        if (!ok) return fail(res, 403, 'Forbidden', 'Invalid or expired signature')
        const d = q.get('disposition')
        return await serveBytes(req, res, record, d ? `${d}; filename="${record.original_filename}"` : undefined)
      }
      if (parts[0] === 'public' && req.method === 'GET') {
        const record = files.get(parts[1])
        if (!record || record.visibility !== 'public') return fail(res, 403, 'Forbidden', 'File is not public')
        return await serveBytes(req, res, record)
      }
      if (parts[0] === '__faults' && req.method === 'POST') {
        faults = await readJson(req)
        return send(res, 200, faults)
      }
      if (parts[0] === '__rotate' && req.method === 'POST') {
        secret = crypto.randomBytes(16).toString('hex') // every signed URL handed out so far stops working
        return send(res, 200, {})
      }
      if (parts[0] === '__reset' && req.method === 'POST') {
        faults = {}
        for (const k of Object.keys(stats)) stats[k] = 0
        return send(res, 200, {})
      }
      if (parts[0] === '__stats') return send(res, 200, stats)
      return fail(res, 404, 'Not Found', 'Route not found')
    } catch (e) {
      if (!res.headersSent) fail(res, 500, 'Internal Server Error', e.message)
      else res.destroy()
    }
  })
  return new Promise((resolve) => {
    server.listen(port, '127.0.0.1', () => {
      base = `http://127.0.0.1:${server.address().port}`
      resolve({
        url: base,
        apiKey,
        projectId,
        stats,
        files,
        dir,
        setFaults: (f) => (faults = f),
        close: () =>
          new Promise((r) => {
            server.closeAllConnections()
            server.close(() => {
              fs.rmSync(dir, { recursive: true, force: true })
              r()
            })
          }),
      })
    })
  })
}

module.exports = { startCrunchyConeServer }

if (require.main === module) {
  const env = process.env
  startCrunchyConeServer({ apiKey: env.API_KEY, projectId: env.PROJECT_ID, port: Number(env.PORT || 0), dir: env.STORAGE_DIR, fileServerUrl: env.FILE_SERVER_URL }).then((s) => {
    console.log(`CrunchyCone API server on ${s.url}`)
    // Stored bytes live in a temporary directory: remove it on the way out.
    for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => s.close().then(() => process.exit(0)))
  })
}
