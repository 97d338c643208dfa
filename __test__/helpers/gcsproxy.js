'use strict'
// What fake-gcs-server (1.54) lacks of GCS's XML API, added in front of it so the GCS client runs
// unchanged:
//   - a plain object PUT is only accepted on fake-gcs-server's signed-upload path, so the proxy adds
//     `X-Goog-Algorithm` to it, and copies the JSON answer's etag and generation into the headers
//     GCS sends;
//   - XML multipart uploads (POST ?uploads, PUT ?partNumber&uploadId, POST ?uploadId, DELETE
//     ?uploadId) are kept as part objects and composed on completion with the JSON compose call.
// Everything else (reads, listings, deletes, the JSON API) is forwarded unchanged.

const http = require('node:http')
const crypto = require('node:crypto')

async function startGcsProxy(target) {
  const upstream = new URL(target)
  const uploads = new Map() // uploadId -> { bucket, object, headers, parts: Map<n, name> }
  const forward = (method, path, headers, body) =>
    new Promise((resolve, reject) => {
      const req = http.request({ host: upstream.hostname, port: upstream.port, method, path, headers }, (res) => {
        const chunks = []
        res.on('data', (c) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }))
      })
      req.on('error', reject)
      if (body && typeof body.pipe === 'function') body.pipe(req)
      else req.end(body)
    })
  const json = (b) => {
    try {
      return JSON.parse(b.toString())
    } catch {
      return {}
    }
  }
  const xml = (res, status, body) => {
    res.writeHead(status, { 'content-type': 'application/xml' })
    res.end(body)
  }
  const deleteParts = (u) =>
    Promise.all([...u.parts.values()].map((name) => forward('DELETE', `/${u.bucket}/${encodeURIComponent(name)}`, {})))

  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://proxy')
      const [, bucket, ...rest] = url.pathname.split('/')
      const object = decodeURIComponent(rest.join('/'))
      const q = url.searchParams
      // fake-gcs-server routes by Host too (virtual-hosted buckets): send its own.
      const plainHeaders = { ...req.headers, host: upstream.host }
      if (req.method === 'POST' && q.has('uploads')) {
        req.resume()
        const id = crypto.randomBytes(8).toString('hex')
        uploads.set(id, { bucket, object, headers: req.headers, parts: new Map() })
        return xml(res, 200, `<InitiateMultipartUploadResult><UploadId>${id}</UploadId></InitiateMultipartUploadResult>`)
      }
      const upload = uploads.get(q.get('uploadId'))
      if (q.has('uploadId') && !upload) {
        req.resume()
        return xml(res, 404, '<Error><Code>NoSuchUpload</Code><Message>No such upload</Message></Error>')
      }
      if (req.method === 'PUT' && upload) {
        const name = `.parts/${q.get('uploadId')}/${q.get('partNumber')}`
        const up = await forward('PUT', `/${bucket}/${encodeURIComponent(name)}?X-Goog-Algorithm=GOOG4-RSA-SHA256`, plainHeaders, req)
        upload.parts.set(Number(q.get('partNumber')), name)
        res.writeHead(up.status, { etag: `"${json(up.body).etag ?? name}"` })
        return res.end()
      }
      if (req.method === 'POST' && upload) {
        req.resume()
        const sourceObjects = [...upload.parts.keys()].sort((a, b) => a - b).map((n) => ({ name: upload.parts.get(n) }))
        const metadata = {}
        for (const [k, v] of Object.entries(upload.headers)) if (k.startsWith('x-goog-meta-')) metadata[k.slice(12)] = v
        const destination = { contentType: upload.headers['content-type'], metadata }
        const body = JSON.stringify({ sourceObjects, destination })
        const path = `/storage/v1/b/${bucket}/o/${encodeURIComponent(upload.object)}/compose`
        const up = await forward('POST', path, { 'content-type': 'application/json' }, body)
        await deleteParts(upload)
        uploads.delete(q.get('uploadId'))
        if (up.status >= 300) return xml(res, up.status, `<Error><Code>ComposeFailed</Code><Message>${up.body}</Message></Error>`)
        return xml(res, 200, `<CompleteMultipartUploadResult><ETag>"${json(up.body).etag}"</ETag></CompleteMultipartUploadResult>`)
      }
      if (req.method === 'DELETE' && upload) {
        req.resume()
        await deleteParts(upload)
        uploads.delete(q.get('uploadId'))
        res.writeHead(204)
        return res.end()
      }
      if (req.method === 'PUT' && !req.headers['x-goog-copy-source'] && bucket && object) {
        q.set('X-Goog-Algorithm', 'GOOG4-RSA-SHA256')
        const up = await forward('PUT', `${url.pathname}?${q}`, plainHeaders, req)
        const answer = json(up.body)
        const headers = { 'content-type': 'application/json' }
        if (answer.etag) headers.etag = `"${answer.etag}"`
        if (answer.generation) headers['x-goog-generation'] = answer.generation
        res.writeHead(up.status, headers)
        return res.end(up.body)
      }
      const fwd = http.request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: plainHeaders },
        (up) => {
          res.writeHead(up.statusCode, up.headers)
          up.pipe(res)
        },
      )
      fwd.on('error', () => res.destroy())
      req.pipe(fwd)
    } catch {
      res.destroy()
    }
  })
  const sockets = new Set()
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  return {
    endpoint: `http://127.0.0.1:${server.address().port}`,
    close() {
      for (const s of sockets) s.destroy()
      return new Promise((r) => server.close(r))
    },
  }
}

module.exports = { startGcsProxy }
