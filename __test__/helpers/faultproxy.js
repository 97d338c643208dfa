'use strict'
// An HTTP proxy in front of a real server (moto, fake-gcs-server, Azurite, the CrunchyCone test
// server) that misbehaves on demand, for what the servers cannot do themselves:
//   set({ body: { mode, after, times, match, chunk, delayMs } })
//                              the next `times` (default: all) object reads send their headers and
//                              `after` body bytes, then, by `mode`:
//                                'cut'     close the connection
//                                'reset'   reset it (TCP RST)
//                                'stall'   send nothing more, keeping the connection open
//                                'trickle' send the rest `chunk` bytes (default 1024) at a time,
//                                          every `delayMs` (default 2)
//                              `before()`, when given, is awaited just before the fault.
//                              Object reads are 2xx GETs without a query outside the external-id
//                              index, or those for which `match(req)` holds.
//   set({ dropHeaders: ['accept-ranges'] })  answers go out without these headers
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
//                              holds get `status` (a number), or for 'reset' a closed connection,
//                              or for 'stall' no answer at all
// Every request is recorded in `log` as `METHOD url`, and in `requests` as { method, url, range }.
// `active` counts the answers still being sent (a request whose client went away is no longer
// counted), `peak` the most there were at once (reset it to measure afresh), `received` the body
// bytes taken from the server so far (the proxy forwards with backpressure, so a client that stops
// reading soon stops this count too).
// Everything else is forwarded unchanged (moto does not check signatures, so the Host may differ).
// The same proxy puts faults in front of Azurite and fake-gcs-server.

const http = require('node:http')

const isObjectRead = (req) => req.method === 'GET' && !req.url.includes('?') && !req.url.includes('/.crunchycone-storage/')

/** Writes `up` to `res` as `fault` says (see the header). */
function misbehave(up, res, { mode, after = 0, chunk = 1024, delayMs = 2, before }) {
  res.flushHeaders() // the headers go out even when no body byte does
  let sent = 0
  let queue = Promise.resolve()
  const wrote = (data) => new Promise((resolve) => res.write(data, resolve))
  const pause = () => new Promise((resolve) => setTimeout(resolve, delayMs))
  const fault = () => {
    up.destroy()
    if (mode === 'cut') res.socket?.destroy()
    else if (mode === 'reset') res.socket?.resetAndDestroy()
  }
  up.on('data', (data) => {
    up.pause()
    queue = queue.then(async () => {
      const room = Math.max(0, after - sent)
      // Flushed before the fault, so the client really has these bytes.
      if (room > 0) await wrote(data.subarray(0, room))
      sent += data.length
      if (room >= data.length) return up.resume()
      if (mode !== 'trickle') {
        await before?.()
        return fault()
      }
      for (let i = room; i < data.length && !res.destroyed; i += chunk) {
        await wrote(data.subarray(i, i + chunk))
        await pause()
      }
      up.resume()
    })
  })
  up.on('end', () => queue.then(() => (mode === 'trickle' || sent <= after) && res.end()))
}

/** The proxy, forwarding to `target` (or, when none is given yet, to what `proxy.target` is set to). */
async function startFaultProxy(target) {
  let faults = {}
  const sockets = new Set()
  const server = http.createServer((req, res) => {
    proxy.peak = Math.max(proxy.peak, ++proxy.active)
    res.on('close', () => proxy.active--)
    proxy.log.push(`${req.method} ${req.url}`)
    proxy.requests.push({ method: req.method, url: req.url, range: req.headers.range })
    const failing = faults.failing
    if (failing?.times > 0 && failing.match(req)) {
      failing.times--
      req.resume()
      if (failing.status === 'reset') return req.socket.destroy()
      if (failing.status === 'stall') return
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
    const upstream = new URL(proxy.target)
    const fwd = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        up.on('data', (d) => (proxy.received += d.length))
        const headers = { ...up.headers }
        for (const name of faults.dropHeaders ?? []) delete headers[name]
        res.writeHead(up.statusCode, headers)
        const body = faults.body
        if (!body || !(body.times ?? 1) || up.statusCode >= 300 || !(body.match ?? isObjectRead)(req)) return up.pipe(res)
        if (body.times !== undefined) body.times--
        misbehave(up, res, body)
      },
    )
    fwd.on('error', () => res.destroy())
    // A client gone mid-answer: the server's answer is dropped too (as a connection it no longer
    // reads would be), so `received` stops.
    res.on('close', () => fwd.destroy())
    req.pipe(fwd)
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const proxy = {
    target,
    refused: 0,
    active: 0,
    peak: 0,
    received: 0,
    log: [],
    requests: [],
    endpoint: `http://127.0.0.1:${server.address().port}`,
    set(f = {}) {
      faults = { ...f, body: f.body && { ...f.body } }
    },
    close() {
      for (const s of sockets) s.destroy()
      return new Promise((r) => server.close(r))
    },
  }
  return proxy
}

module.exports = { startFaultProxy }
