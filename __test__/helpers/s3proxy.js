'use strict'
// An HTTP proxy in front of moto that can misbehave on demand, for what moto cannot do itself:
//   set({ stall: n })         object GETs send their headers and n body bytes, then nothing
//   set({ drop: n, times })   object GETs lose the connection after n body bytes (the next `times`)
//   set({ aclDisabled: true }) ?acl requests and x-amz-acl headers get S3's answer for buckets
//                              with ACLs disabled
//   set({ failComplete: true }) completing a multipart upload fails
//   set({ badSignature: true }) every request is refused as AWS refuses a wrong secret, with an
//                              error document that echoes the key id and what was signed
//   set({ stuckListing: true }) S3 listings answer an empty, truncated page whose next token is
//                              always the same
//   set({ refuseQuery: 'x' })  requests whose query names `x` get 400 InvalidQueryParameterValue
//                              (counted in `refused`)
//   set({ failing: { match, times, status } })  the next `times` requests for which `match(req)`
//                              holds get `status` (a number) or, for 'reset', a closed connection
// Every request is recorded in `log` as `METHOD url`.
// Everything else is forwarded unchanged (moto does not check signatures, so the Host may differ).
// The same proxy puts faults in front of Azurite and fake-gcs-server.

const http = require('node:http')

async function startS3Proxy(target) {
  const upstream = new URL(target)
  let faults = {}
  const sockets = new Set()
  const server = http.createServer((req, res) => {
    proxy.log.push(`${req.method} ${req.url}`)
    const failing = faults.failing
    if (failing?.times > 0 && failing.match(req)) {
      failing.times--
      req.resume()
      if (failing.status === 'reset') return req.socket.destroy()
      res.writeHead(failing.status, { 'content-type': 'text/plain' })
      return res.end('try again later')
    }
    const refuse = (code, message, status = 400, extra = '') => {
      req.resume()
      res.writeHead(status, { 'content-type': 'application/xml' })
      res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message>${extra}</Error>`)
    }
    if (faults.badSignature) {
      const keyId = /Credential=([^/]+)/.exec(req.headers.authorization ?? '')?.[1] ?? ''
      return refuse(
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided.',
        403,
        `<AWSAccessKeyId>${keyId}</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256 20260101T000000Z</StringToSign><SignatureProvided>${'ab'.repeat(32)}</SignatureProvided><CanonicalRequest>GET /${req.url}</CanonicalRequest>`,
      )
    }
    if (faults.stuckListing && req.method === 'GET' && req.url.includes('list-type=2')) {
      req.resume()
      res.writeHead(200, { 'content-type': 'application/xml' })
      return res.end('<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>SAME</NextContinuationToken></ListBucketResult>')
    }
    if (faults.refuseQuery && new URL(req.url, 'http://x').searchParams.has(faults.refuseQuery)) {
      proxy.refused++
      return refuse('InvalidQueryParameterValue', `Value for one of the query parameters specified in the request URI is invalid.`)
    }
    if (faults.aclDisabled && (/[?&]acl(=|&|$)/.test(req.url) || req.headers['x-amz-acl'])) {
      return refuse('AccessControlListNotSupported', 'The bucket does not allow ACLs')
    }
    if (faults.failComplete && req.method === 'POST' && req.url.includes('uploadId=')) {
      return refuse('InvalidPart', 'One or more of the specified parts could not be found')
    }
    const fwd = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode, up.headers)
        // Object reads only: not listings, ACLs (queries) or the external-id index.
        const objectGet =
          req.method === 'GET' && up.statusCode < 300 && !req.url.includes('?') && !req.url.includes('/.crunchycone-storage/')
        const limit = objectGet ? faults.stall ?? (faults.times > 0 ? faults.drop : undefined) : undefined
        if (limit === undefined) return up.pipe(res)
        const dropping = faults.stall === undefined
        if (dropping) faults.times--
        let sent = 0
        up.on('data', (chunk) => {
          const room = limit - sent
          if (room > 0) res.write(chunk.subarray(0, room))
          sent += chunk.length
          if (sent >= limit) {
            up.pause()
            if (dropping) res.socket.destroy()
          }
        })
        up.on('end', () => sent < limit && res.end())
      },
    )
    fwd.on('error', () => res.destroy())
    req.pipe(fwd)
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const proxy = {
    refused: 0,
    log: [],
    endpoint: `http://127.0.0.1:${server.address().port}`,
    set(f = {}) {
      faults = { ...f }
    },
    close() {
      for (const s of sockets) s.destroy()
      return new Promise((r) => server.close(r))
    },
  }
  return proxy
}

module.exports = { startS3Proxy }
