'use strict'
// serveFile / createFileHandler / toResponse against real HTTP clients (Node's fetch and curl),
// for LocalStorage and three network providers: every status and header, byte-exact ranges,
// conditional requests, HEAD, and a client that disconnects mid-body (the provider stream is
// released at once, without waiting for the garbage collector).

const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { execFile, spawn } = require('node:child_process')
const crypto = require('node:crypto')
const fs = require('node:fs')
const http = require('node:http')
const { pattern, sleep } = require('./helpers/util')
const { freshRoot, localProvider } = require('./helpers/local')
const { startCrunchyConeServer } = require('./servers/crunchycone')
const emulators = require('../scripts/emulators')
const lib = require('..')

const T = { timeout: 120_000 }
const SIZE = 3 * 1024 * 1024 + 7
const data = pattern(SIZE, 21)
const stops = []
after(() => Promise.all(stops.map((s) => s())))

const PROVIDERS = {
  local: async () => localProvider(freshRoot('serve')),
  s3: async () => {
    const server = await emulators.moto(`b-${crypto.randomBytes(6).toString('hex')}`)
    stops.push(() => server.stop())
    return new lib.S3CompatibleProvider({ accessKeyId: 'AKIDTEST', secretAccessKey: 'secret', region: 'us-east-1', bucket: server.bucket, endpoint: server.endpoint })
  },
  azure: async () => {
    const server = await emulators.azurite(`c-${crypto.randomBytes(6).toString('hex')}`)
    stops.push(() => server.stop())
    return new lib.AzureStorageProvider({ connectionString: server.connectionString, containerName: server.container })
  },
  crunchycone: async () => {
    const server = await startCrunchyConeServer({ apiKey: 'sk_serve_test_0123', projectId: 'p' })
    stops.push(() => server.close())
    return new lib.CrunchyConeProvider({ apiUrl: server.url, apiKey: 'sk_serve_test_0123', projectId: 'p' })
  },
}

/** `curl` with `args`: `{ status, headers, body }` (the last response's, with -i). */
function curl(args) {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-s', '-i', ...args], { encoding: 'buffer', maxBuffer: 64 << 20 }, (error, stdout) => {
      if (error) return reject(error)
      const split = stdout.indexOf('\r\n\r\n')
      const head = stdout.subarray(0, split).toString('latin1').split('\r\n')
      const headers = {}
      for (const line of head.slice(1)) headers[line.slice(0, line.indexOf(':')).toLowerCase()] = line.slice(line.indexOf(':') + 1).trim()
      resolve({ status: Number(head[0].split(' ')[1]), headers, body: stdout.subarray(split + 4) })
    })
  })
}

const openFds = () => fs.readdirSync('/proc/self/fd').length

for (const [name, create] of Object.entries(PROVIDERS)) {
  describe(`serve: ${name}`, () => {
    let provider
    let base
    let key
    let info // the object's validators, from a plain GET
    const errors = []
    before(async () => {
      provider = await create()
      key = (await provider.uploadFile({ external_id: `serve-${crypto.randomBytes(4).toString('hex')}`, key: 'media/clip "one" é.bin', buffer: data })).key
      const server = http.createServer(lib.createFileHandler(provider, { onError: (e) => errors.push(e) }))
      await new Promise((r) => server.listen(0, '127.0.0.1', r))
      stops.push(() => new Promise((r) => server.close(r)))
      server.on('connection', (s) => stops.push(() => s.destroy()))
      base = `http://127.0.0.1:${server.address().port}/${key.split('/').map(encodeURIComponent).join('/')}`
      const r = await fetch(base)
      info = { etag: r.headers.get('etag'), lastModified: r.headers.get('last-modified') }
      await r.arrayBuffer()
    })
    const get = (headers = {}, method = 'GET', url = base) => fetch(url, { method, headers })

    it('GET: 200 with the whole body and every header', T, async () => {
      const r = await get()
      assert.equal(r.status, 200)
      assert.deepEqual(Buffer.from(await r.arrayBuffer()), data)
      assert.equal(r.headers.get('content-length'), String(SIZE))
      assert.equal(r.headers.get('accept-ranges'), 'bytes')
      assert.equal(r.headers.get('content-type'), 'application/octet-stream')
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff')
      assert.match(info.etag, /^(W\/)?"[^"]+"$/)
      assert.ok(Date.parse(info.lastModified) > Date.now() - 600_000, info.lastModified)
      assert.equal(r.headers.get('content-range'), null)
    })

    it('Range: first, open-ended and suffix ranges → 206, byte-exact (curl -r)', T, async () => {
      for (const [range, start, end] of [['0-0', 0, 0], ['10-19', 10, 19], [`${SIZE - 100}-`, SIZE - 100, SIZE - 1], ['-500', SIZE - 500, SIZE - 1], [`5-${SIZE + 100}`, 5, SIZE - 1], [`-${SIZE * 2}`, 0, SIZE - 1]]) {
        const r = await curl(['-r', range, base])
        assert.equal(r.status, 206, range)
        assert.equal(r.headers['content-range'], `bytes ${start}-${end}/${SIZE}`, range)
        assert.equal(r.headers['content-length'], String(end - start + 1), range)
        assert.deepEqual(r.body, data.subarray(start, end + 1), range)
      }
    })

    it('an unsatisfiable range → 416 with Content-Range: bytes */size', T, async () => {
      for (const range of [`bytes=${SIZE}-`, `bytes=${SIZE + 5}-${SIZE + 9}`, 'bytes=-0', 'bytes=99999999999999999999-']) {
        const r = await get({ range })
        assert.equal(r.status, 416, range)
        assert.equal(r.headers.get('content-range'), `bytes */${SIZE}`, range)
        await r.arrayBuffer()
      }
    })

    it('several ranges, or a malformed one, → 200 with the whole body', T, async () => {
      for (const range of ['bytes=0-1,5-6', 'bytes=abc', 'items=0-5', 'bytes=9-3']) {
        const r = await get({ range })
        assert.equal(r.status, 200, range)
        assert.equal(Buffer.from(await r.arrayBuffer()).length, SIZE, range)
      }
    })

    it('If-None-Match / If-Modified-Since → 304 without a body', T, async () => {
      for (const headers of [{ 'if-none-match': info.etag }, { 'if-none-match': `"other", ${info.etag}` }, { 'if-none-match': '*' }, { 'if-modified-since': info.lastModified }, { 'if-modified-since': new Date(Date.now() + 60_000).toUTCString() }]) {
        const r = await get(headers)
        assert.equal(r.status, 304, JSON.stringify(headers))
        assert.equal(r.headers.get('etag'), info.etag)
        assert.equal((await r.arrayBuffer()).byteLength, 0)
      }
      // If-None-Match wins over If-Modified-Since; an old date or another tag is a full answer.
      for (const headers of [{ 'if-none-match': '"other"', 'if-modified-since': info.lastModified }, { 'if-modified-since': new Date(Date.parse(info.lastModified) - 60_000).toUTCString() }]) {
        const r = await get(headers)
        assert.equal(r.status, 200, JSON.stringify(headers))
        assert.equal((await r.arrayBuffer()).byteLength, SIZE)
      }
    })

    it('preconditions come before an unsatisfiable range (RFC 9110 §13.2.2)', T, async () => {
      for (const [headers, status] of [
        [{ range: `bytes=${SIZE}-`, 'if-none-match': info.etag }, 304],
        [{ range: `bytes=${SIZE}-`, 'if-match': '"nope"' }, 412],
        [{ range: `bytes=${SIZE}-`, 'if-range': '"changed"' }, 200],
        [{ range: 'bytes=-0', 'if-none-match': '*' }, 304],
      ]) {
        const r = await get(headers)
        assert.equal(r.status, status, JSON.stringify(headers))
        assert.equal(Buffer.from(await r.arrayBuffer()).length, { 200: SIZE, 304: 0, 412: 'Precondition Failed'.length }[status])
      }
    })

    it('If-Match / If-Unmodified-Since → 412 when the file is not the one asked for', T, async () => {
      const strong = !info.etag.startsWith('W/')
      for (const [headers, status] of [
        [{ 'if-match': '"nope"' }, 412],
        [{ 'if-match': '*' }, 200],
        [{ 'if-match': info.etag }, strong ? 200 : 412], // If-Match compares strongly
        [{ 'if-unmodified-since': new Date(Date.parse(info.lastModified) - 60_000).toUTCString() }, 412],
        [{ 'if-unmodified-since': info.lastModified }, 200],
      ]) {
        const r = await get(headers)
        assert.equal(r.status, status, JSON.stringify(headers))
        await r.arrayBuffer()
      }
    })

    it('If-Range: the range while the file is unchanged, else the whole file', T, async () => {
      const strong = !info.etag.startsWith('W/')
      for (const [ifRange, status] of [[info.etag, strong ? 206 : 200], ['"changed"', 200], [info.lastModified, 206], [new Date(Date.parse(info.lastModified) - 60_000).toUTCString(), 200]]) {
        const r = await get({ range: 'bytes=100-199', 'if-range': ifRange })
        assert.equal(r.status, status, ifRange)
        const body = Buffer.from(await r.arrayBuffer())
        assert.deepEqual(body, status === 206 ? data.subarray(100, 200) : data, ifRange)
      }
    })

    it('HEAD: the headers without a body (curl -I)', T, async () => {
      const r = await curl(['-I', base])
      assert.equal(r.status, 200)
      assert.equal(r.headers['content-length'], String(SIZE))
      assert.equal(r.headers['etag'], info.etag)
      assert.equal(r.body.length, 0)
      const ranged = await curl(['-I', '-r', '-10', base])
      assert.equal(ranged.status, 206)
      assert.equal(ranged.headers['content-range'], `bytes ${SIZE - 10}-${SIZE - 1}/${SIZE}`)
    })

    it('404 for a missing key, 400 for an invalid one, 405 for other methods', T, async () => {
      const root = base.slice(0, base.indexOf('/media/'))
      const missing = await get({}, 'GET', `${root}/media/nothing-here.bin`)
      assert.equal(missing.status, 404)
      assert.equal(await missing.text(), 'Not Found')
      const invalid = await get({}, 'GET', `${root}/a%2F..%2F..%2Fetc%2Fpasswd`)
      assert.equal(invalid.status, 400)
      assert.equal(await invalid.text(), 'Bad Request')
      assert.equal((await get({}, 'GET', `${root}/%E0%A4%A`)).status, 400)
      // `..` is refused as sent, never resolved (a path rule in front could otherwise be bypassed).
      for (const p of ['/other/../media/x', '/media/./x', '//media/x']) {
        assert.equal((await curl(['--path-as-is', `${root}${p}`])).status, 400, p)
      }
      const post = await get({}, 'POST')
      assert.equal(post.status, 405)
      assert.equal(post.headers.get('allow'), 'GET, HEAD')
      assert.ok(errors.some((e) => e.code === 'NotFound') && errors.some((e) => e.code === 'InvalidKey'))
    })

    it('a client that disconnects mid-body releases the provider stream at once', T, async () => {
      // Every stream the handler opens, watched: it must be destroyed (its native handle released)
      // as soon as the client is gone, not when the garbage collector finds it.
      // Larger than what loopback's socket buffers take in, so the body cannot all be sent.
      const big = (await provider.uploadFile({ external_id: `serve-big-${crypto.randomBytes(4).toString('hex')}`, key: 'media/big.bin', buffer: Buffer.alloc(48 << 20, 7) })).key
      const url = `${base.slice(0, base.indexOf('/media/'))}/${big}`
      const opened = []
      const getFileStream = provider.getFileStream
      provider.getFileStream = async function (...args) {
        const s = await getFileStream.apply(this, args)
        opened.push(s)
        return s
      }
      try {
        for (let i = 0; i < 5; i++) {
          const client = spawn('curl', ['-s', '--limit-rate', '100k', '-o', '/dev/null', url])
          while (opened.length === i) await sleep(5)
          const s = opened[i]
          // Under way: the handler pipes it, and 48 MiB cannot have gone at 100 KiB/s. (Piping sets
          // readableFlowing; the socket's backpressure sets it back to false at once, often before a
          // poll could see true, so "piped" is anything but null.)
          while (s.stream.readableFlowing === null) await sleep(5)
          assert.equal(s.stream.destroyed, false, 'still streaming')
          // (It closes with an AbortError: the handler aborts it when the client goes.)
          const released = new Promise((resolve) => s.stream.once('close', resolve))
          client.kill('SIGKILL')
          await released // bounded by the test's timeout; no garbage collection is asked for
          assert.equal(s.stream.destroyed, true, `stream ${i} released`)
        }
      } finally {
        provider.getFileStream = getFileStream
      }
    })
  })
}

describe('serve: options', () => {
  let provider
  before(async () => {
    provider = localProvider(freshRoot('serve-options'))
    await provider.uploadFile({ external_id: 'opt', key: 'docs/report "2026" – final.pdf', buffer: Buffer.from('%PDF-1.7') })
  })
  const serveWith = async (options, key = 'docs/report "2026" – final.pdf') => {
    const server = http.createServer((req, res) => lib.serveFile(provider, key, req, res, options))
    await new Promise((r) => server.listen(0, '127.0.0.1', r))
    try {
      const r = await fetch(`http://127.0.0.1:${server.address().port}/`)
      return { r, body: await r.text() }
    } finally {
      server.close()
      server.closeAllConnections()
    }
  }

  it('Content-Disposition with a safe fallback and the UTF-8 name; Cache-Control; extra headers', T, async () => {
    const { r, body } = await serveWith({ disposition: 'attachment', cacheControl: 'private, max-age=60', headers: { 'Access-Control-Allow-Origin': '*' } })
    assert.equal(body, '%PDF-1.7')
    assert.equal(r.headers.get('content-type'), 'application/pdf')
    assert.equal(r.headers.get('content-disposition'), `attachment; filename="report _2026_ _ final.pdf"; filename*=UTF-8''report%20%222026%22%20%E2%80%93%20final.pdf`)
    assert.equal(r.headers.get('cache-control'), 'private, max-age=60')
    assert.equal(r.headers.get('access-control-allow-origin'), '*')
    const inline = await serveWith({ disposition: 'inline', filename: 'r.pdf', etag: false, lastModified: false })
    assert.equal(inline.r.headers.get('content-disposition'), 'inline; filename="r.pdf"')
    assert.equal(inline.r.headers.get('etag'), null)
    assert.equal(inline.r.headers.get('last-modified'), null)
    assert.equal(inline.r.headers.get('cache-control'), null)
  })

  it('stored header values that are not header text are dropped; active types are sandboxed; headers on every answer', T, async () => {
    await provider.uploadFile({ external_id: 'odd', key: 'odd/a.txt', buffer: Buffer.from('odd'), contentType: 'text/plain; x=\u6587' })
    await provider.uploadFile({ external_id: 'page', key: 'odd/p.html', buffer: Buffer.from('<script>alert(1)</script>') })
    const odd = await serveWith({}, 'odd/a.txt')
    assert.equal(odd.r.status, 200)
    assert.equal(odd.r.headers.get('content-type'), 'application/octet-stream')
    assert.equal(odd.body, 'odd')
    const page = await serveWith({}, 'odd/p.html')
    assert.equal(page.r.headers.get('content-type'), 'text/html')
    assert.equal(page.r.headers.get('content-security-policy'), "sandbox; default-src 'none'")
    assert.equal((await serveWith({ contentSecurityPolicy: false }, 'odd/p.html')).r.headers.get('content-security-policy'), null)
    assert.equal((await serveWith({}, 'docs/report "2026" – final.pdf')).r.headers.get('content-security-policy'), null)
    const missing = await serveWith({ headers: { 'Access-Control-Allow-Origin': '*' } }, 'odd/none.txt')
    assert.equal(missing.r.status, 404)
    assert.equal(missing.r.headers.get('access-control-allow-origin'), '*')
  })

  it('by external id', T, async () => {
    const { r, body } = await serveWith({ byExternalId: true }, 'opt')
    assert.equal(r.status, 200)
    assert.equal(body, '%PDF-1.7')
  })
})

describe('serve: toResponse (Web Request / Response)', () => {
  let provider
  before(async () => {
    provider = localProvider(freshRoot('serve-web'))
    await provider.uploadFile({ external_id: 'web', key: 'w/data.bin', buffer: data })
  })
  const respond = (headers = {}, method = 'GET', key = 'w/data.bin') => lib.toResponse(provider, key, new Request('http://local/x', { method, headers }))

  it('answers ranges, conditionals, HEAD and misses as the Node handler does', T, async () => {
    const whole = await respond()
    assert.equal(whole.status, 200)
    assert.deepEqual(Buffer.from(await whole.arrayBuffer()), data)
    const part = await respond({ range: 'bytes=-1000' })
    assert.equal(part.status, 206)
    assert.equal(part.headers.get('content-range'), `bytes ${SIZE - 1000}-${SIZE - 1}/${SIZE}`)
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), data.subarray(SIZE - 1000))
    const cached = await respond({ 'if-none-match': whole.headers.get('etag') })
    assert.equal(cached.status, 304)
    assert.equal(cached.body, null)
    const head = await respond({}, 'HEAD')
    assert.equal(head.status, 200)
    assert.equal(head.headers.get('content-length'), String(SIZE))
    assert.equal(head.body, null)
    const missing = await respond({}, 'GET', 'w/none.bin')
    assert.equal(missing.status, 404)
    assert.equal((await respond({ range: `bytes=${SIZE}-` })).status, 416)
  })

  it('a cancelled body releases the provider stream', T, async () => {
    const before = openFds()
    for (let i = 0; i < 20; i++) {
      const r = await respond()
      const reader = r.body.getReader()
      await reader.read()
      await reader.cancel()
    }
    let after = openFds()
    for (let i = 0; i < 500 && after > before; i++) {
      await sleep(20)
      after = openFds()
    }
    assert.ok(after <= before, `${after - before} descriptors still open`)
  })
})
