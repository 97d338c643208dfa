'use strict'
// Every network provider behind the fault proxy (helpers/faultproxy.js), in front of its real
// server: connections cut or reset in the middle of a body, bodies that stall or trickle, requests
// reset or never answered before their headers, and endpoints that refuse connections. A stream
// either delivers every byte of what was asked or errors with a stable code: it never ends cleanly
// after losing bytes, and it never hangs past its timeout.
//
// Then a soak per provider: 2,000 streams aborted at random points (while opening, before the first
// read, after some chunks, by cleanup(), by cancelling the stream, or read to the end) in a child
// process that does nothing else, which must end with no more file descriptors than it had after
// its warm-up, no more sockets than the connection pools keep idle, and a flat RSS (SOAK_STREAMS=n runs n streams instead).

const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const path = require('node:path')
const { startFaultProxy } = require('./helpers/faultproxy')
const { startGcsProxy } = require('./helpers/gcsproxy')
const { pattern, collect, runScript, closedPort } = require('./helpers/util')
const { startCrunchyConeServer } = require('./servers/crunchycone')
const emulators = require('../scripts/emulators')
const lib = require('..')

const KiB = 1024
const SIZE = 1024 * KiB
const T = { timeout: 180_000 }
const stops = []
after(() => Promise.all(stops.map((s) => s())))

const randomName = (prefix) => `${prefix}-${crypto.randomBytes(6).toString('hex')}`

/**
 * Each provider, reached through a fault proxy: `{ proxy, cls, config(endpoint), isRead? }`, where
 * `config(endpoint)` is the provider's configuration with its server at `endpoint` and `isRead`
 * tells the object reads among the proxy's requests where the default does not.
 */
const SETUPS = {
  async s3() {
    const server = await emulators.moto(randomName('b'))
    const proxy = await startFaultProxy(server.endpoint)
    stops.push(() => proxy.close(), () => server.stop())
    const config = (endpoint) => ({ accessKeyId: 'AKIDTEST', secretAccessKey: 'secret-0123456789', region: 'us-east-1', bucket: server.bucket, endpoint })
    return { proxy, cls: 'S3CompatibleProvider', config }
  },
  async gcs() {
    const server = await emulators.fakeGcs(randomName('b'))
    const shim = await startGcsProxy(server.endpoint)
    const proxy = await startFaultProxy(shim.endpoint)
    stops.push(() => proxy.close(), () => shim.close(), () => server.stop())
    const config = (apiEndpoint) => ({ projectId: 'test', bucket: server.bucket, apiEndpoint })
    return { proxy, cls: 'GCPStorageProvider', config }
  },
  async azure() {
    const server = await emulators.azurite(randomName('c'))
    const host = server.endpoint.replace(/\/devstoreaccount1$/, '')
    const proxy = await startFaultProxy(host)
    stops.push(() => proxy.close(), () => server.stop())
    const config = (endpoint) => ({
      connectionString: server.connectionString.replace(/BlobEndpoint=[^;]+/, `BlobEndpoint=${endpoint}/devstoreaccount1`),
      containerName: server.container,
    })
    return { proxy, cls: 'AzureStorageProvider', config }
  },
  async crunchycone() {
    // The API and the signed URLs' bytes both go through the proxy.
    const proxy = await startFaultProxy()
    const server = await startCrunchyConeServer({ apiKey: 'sk_test_faults_0123', projectId: 'proj_1', fileServerUrl: `${proxy.endpoint}/signed` })
    proxy.target = server.url
    stops.push(() => proxy.close(), () => server.close())
    const config = (apiUrl) => ({ apiUrl, apiKey: 'sk_test_faults_0123', projectId: 'proj_1' })
    const isRead = (req) => req.method === 'GET' && req.url.startsWith('/signed/')
    return { proxy, cls: 'CrunchyConeProvider', config, isRead }
  },
}

describe('suffix ranges', () => {
  // What reaches each server for { suffix: n }: the range as asked where the service takes suffix
  // ranges; Azure's Get Blob does not, so its size comes first.
  const expected = {
    s3: [['GET', 'bytes=-500']],
    gcs: [['GET', 'bytes=-500']],
    azure: [['HEAD', undefined], ['GET', 'bytes=523788-']],
    crunchycone: [['GET', 'bytes=-500']],
  }
  for (const [name, setup] of Object.entries(SETUPS)) {
    it(`${name}: ${expected[name].length === 1 ? 'one request' : 'a HEAD, then the span'}`, T, async () => {
      const s = await setup()
      const provider = new lib[s.cls](s.config(s.proxy.endpoint))
      const data = pattern(512 * KiB, 5)
      const { key } = await provider.uploadFile({ external_id: randomName('suffix'), key: 'suffix/object.bin', buffer: data })
      const mark = s.proxy.requests.length
      const r = await provider.getFileStream(key, { suffix: 500, includeMetadata: false })
      assert.deepEqual(r.range, { start: data.length - 500, end: data.length - 1, total: data.length })
      assert.deepEqual(await collect(r.stream), data.subarray(data.length - 500))
      const reads = s.proxy.requests.slice(mark).filter((q) => (s.isRead ?? (() => !q.url.includes('?')))(q))
      assert.deepEqual(reads.map((q) => [q.method, q.range]), expected[name])
    })
  }
})

/** Reads `s.stream`; gives `{ bytes }` or `{ error }`. */
const outcome = (s) => collect(s.stream).then((bytes) => ({ bytes }), (error) => ({ error }))

for (const [name, setup] of Object.entries(SETUPS)) {
  // The object stores resume a body lost mid-way; CrunchyCone's signed URLs are read once.
  const resumes = name !== 'crunchycone'
  describe(`faults: ${name}`, () => {
    let s
    let provider
    const data = pattern(SIZE, 11)
    let key
    const body = (fault) => s.proxy.set({ body: { match: s.isRead, ...fault } })
    const failing = (fault) => s.proxy.set({ failing: { match: s.isRead ?? ((req) => req.method === 'GET' && !req.url.includes('?')), times: Infinity, ...fault } })

    before(async () => {
      s = await setup()
      provider = new lib[s.cls](s.config(s.proxy.endpoint))
      key = (await provider.uploadFile({ external_id: randomName('faults'), key: 'faults/object.bin', buffer: data })).key
    })
    const clear = () => s.proxy.set({})

    it(resumes ? 'a connection cut once mid-body is resumed, byte-exact' : 'a connection cut once mid-body errors the stream', T, async (t) => {
      t.after(clear)
      for (const responseType of ['node', 'web']) {
        body({ mode: 'cut', after: 300 * KiB, times: 1 })
        const r = await outcome(await provider.getFileStream(key, { responseType }))
        if (resumes) assert.deepEqual(r, { bytes: data })
        else assert.equal(r.error?.code, 'Provider', `${responseType}: ${r.error ?? `${r.bytes.length} bytes`}`)
      }
    })

    if (resumes) {
      it('an object replaced while a cut body is resumed fails the stream, never mixes versions', T, async (t) => {
        t.after(clear)
        const { key: k } = await provider.uploadFile({ external_id: randomName('v1'), key: 'faults/replaced.bin', buffer: data })
        const other = pattern(SIZE, 99)
        // The cut comes after the object was replaced: the resumed request asks for the old one.
        body({ mode: 'cut', after: 300 * KiB, times: 1, before: () => provider.uploadFile({ external_id: randomName('v2'), key: k, buffer: other }) })
        const r = await outcome(await provider.getFileStream(k, { includeMetadata: false }))
        assert.equal(r.error?.code, 'Provider', r.error?.stack ?? `${r.bytes.length} bytes, ${r.bytes.equals(data) ? 'the old' : r.bytes.equals(other) ? 'the new' : 'mixed'} content`)
      })
    }

    for (const mode of ['cut', 'reset']) {
      it(`a connection ${mode === 'cut' ? 'cut' : 'reset'} on every attempt errors the stream, at any offset`, T, async (t) => {
        t.after(clear)
        for (const [responseType, after] of [['node', 0], ['web', 1], ['node', 64 * KiB], ['web', SIZE - 1]]) {
          body({ mode, after })
          const r = await outcome(await provider.getFileStream(key, { responseType }))
          // Each of the three resumptions asks for the rest, and gets `after` bytes of it.
          if (resumes && 4 * after >= SIZE) {
            assert.deepEqual(r, { bytes: data })
            continue
          }
          assert.equal(r.error?.code, 'Provider', `${responseType} after ${after}: ${r.error?.stack ?? `${r.bytes.length} bytes and a clean end`}`)
          assert.match(r.error.message, /^Failed to read file stream/)
        }
      })
    }

    it('a body that stalls mid-way times out, not before the timeout', T, async (t) => {
      t.after(clear)
      for (const responseType of ['node', 'web']) {
        body({ mode: 'stall', after: 200 * KiB })
        const s = await provider.getFileStream(key, { responseType, timeout: 1000 })
        const started = performance.now()
        const r = await outcome(s)
        assert.equal(r.error?.code, 'Timeout', String(r.error))
        assert.equal(r.error.message, 'File stream request timeout after 1000ms')
        // (Timers may fire a millisecond early.)
        assert.ok(performance.now() - started >= 990)
      }
    })

    it('a body that trickles in 1 KiB pieces arrives whole, ranged or not', T, async (t) => {
      t.after(clear)
      body({ mode: 'trickle', after: 10 * KiB, chunk: KiB, delayMs: 1 })
      const ranged = await provider.getFileStream(key, { start: 1000, end: 1000 + 100 * KiB - 1, responseType: 'web', timeout: 5000 })
      assert.deepEqual(await outcome(ranged), { bytes: data.subarray(1000, 1000 + 100 * KiB) })
      body({ mode: 'trickle', after: SIZE - 30 * KiB, chunk: KiB, delayMs: 1 })
      assert.deepEqual(await outcome(await provider.getFileStream(key, { timeout: 5000 })), { bytes: data })
    })

    it('a read reset before its headers on every attempt rejects getFileStream', T, async (t) => {
      t.after(clear)
      failing({ status: 'reset' })
      await assert.rejects(provider.getFileStream(key), (e) => {
        assert.equal(e.code, 'Provider', e.stack)
        return true
      })
    })

    it('a read never answered rejects getFileStream at its timeout', T, async (t) => {
      t.after(clear)
      failing({ status: 'stall' })
      const started = performance.now()
      await assert.rejects(provider.getFileStream(key, { timeout: 1000 }), { code: 'Timeout', message: 'File stream request timeout after 1000ms' })
      assert.ok(performance.now() - started >= 990)
    })

    it('an endpoint that refuses connections fails every call with a code', T, async () => {
      const refused = new lib[s.cls](s.config(`http://127.0.0.1:${await closedPort()}`))
      const calls = {
        getFileStream: () => refused.getFileStream('faults/object.bin'),
        listFiles: () => refused.listFiles({ limit: 5 }),
        deleteFile: () => refused.deleteFile('faults/object.bin'),
        uploadFile: () => refused.uploadFile({ external_id: 'x', key: 'faults/new.bin', buffer: Buffer.from('new') }),
      }
      for (const [call, fn] of Object.entries(calls)) {
        await assert.rejects(fn(), (e) => {
          assert.ok(e.code, `${call}: no code on ${e.stack}`)
          assert.ok(!/panick/i.test(e.message), e.message)
          return true
        })
      }
    })
  })
}

/**
 * In a child process that does nothing else: `STREAMS` streams of `key` from
 * `new lib[cls](config)`, each ended a way a seeded random pick chooses. Gives the descriptors,
 * sockets and RSS after a warm-up and after the soak, and how many of each ending ran.
 */
const STREAMS = Number(process.env.SOAK_STREAMS ?? 2000)
function soak(cls, config, key) {
  const script = `
    const lib = require(${JSON.stringify(path.join(__dirname, '..'))})
    const fs = require('node:fs')
    const provider = new lib[${JSON.stringify(cls)}](${JSON.stringify(config)})
    const key = ${JSON.stringify(key)}
    const links = () => fs.readdirSync('/proc/self/fd').map((fd) => { try { return fs.readlinkSync('/proc/self/fd/' + fd) } catch { return '?' } })
    const usage = () => {
      global.gc()
      const sockets = links().filter((x) => x.startsWith('socket:')).length
      return { files: links().length - sockets, sockets, rss: process.memoryUsage().rss }
    }
    let seed = 7 // xorshift32
    const random = (n) => ((seed ^= seed << 13), (seed ^= seed >>> 17), (seed ^= seed << 5), (seed >>> 0) % n)
    const endings = { opening: 0, unread: 0, chunks: 0, cleanup: 0, cancel: 0, whole: 0 }
    async function once() {
      const controller = new AbortController()
      const responseType = random(2) ? 'web' : 'node'
      const ending = Object.keys(endings)[random(6)]
      endings[ending]++
      const opening = provider.getFileStream(key, { signal: controller.signal, responseType, start: random(1000) })
      if (ending === 'opening') {
        controller.abort()
        return opening.then(() => { throw new Error('opened after an abort') }, (e) => { if (e.name !== 'AbortError') throw e })
      }
      const s = await opening
      if (ending === 'unread') {
        // A Node stream errors with the AbortError, as any aborted Node stream does.
        if (responseType === 'node') s.stream.on('error', () => {})
        return controller.abort()
      }
      const stop = random(4)
      let n = 0
      let bytes = 0
      try {
        for await (const chunk of s.stream) {
          bytes += chunk.byteLength
          if (ending === 'whole' || n++ < stop) continue
          if (ending === 'chunks') controller.abort()
          else if (ending === 'cleanup') await s.cleanup()
          else if (responseType === 'web') break // cancels the reader
          else s.stream.destroy()
        }
      } catch (e) {
        if (e.name !== 'AbortError' && e.code !== 'ERR_STREAM_PREMATURE_CLOSE') throw e
      }
      if (ending === 'whole' && bytes !== s.contentLength) throw new Error('short stream: ' + bytes + ' of ' + s.contentLength)
    }
    ;(async () => {
      for (let i = 0; i < 20; i++) await once()
      await new Promise((r) => setTimeout(r, 200))
      const before = usage()
      const rss = []
      const sockets = []
      for (let i = 0; i < ${STREAMS}; i++) {
        await once()
        if (i % 250 === 249) {
          const u = usage()
          rss.push(u.rss >> 20)
          sockets.push(u.sockets)
        }
      }
      // What aborts release goes at once; an in-flight read on another thread may close just after.
      let after = usage()
      for (let i = 0; i < 500 && (after.files > before.files || after.sockets > before.sockets); i++) {
        await new Promise((r) => setTimeout(r, 20))
        after = usage()
      }
      console.log(JSON.stringify({ before, after, endings, rss, sockets }))
    })().catch((e) => { console.error(e); process.exit(1) })
  `
  return runScript(script, ['--expose-gc'])
}

describe(`soak: ${STREAMS} streams aborted at random points`, () => {
  for (const [name, setup] of Object.entries(SETUPS)) {
    it(name, { timeout: 600_000 }, async () => {
      const s = await setup()
      // Through the proxy, which only forwards.
      const config = s.config(s.proxy.endpoint)
      const provider = new lib[s.cls](config)
      const { key } = await provider.uploadFile({ external_id: randomName('soak'), key: 'soak/object.bin', buffer: pattern(256 * KiB, 3) })
      const started = Date.now()
      const { before, after, endings, rss, sockets } = await soak(s.cls, config, key)
      console.log(`${name}: ${STREAMS} streams in ${Date.now() - started} ms; endings ${JSON.stringify(endings)}; before ${JSON.stringify(before)}; after ${JSON.stringify(after)}; RSS MiB ${rss}; sockets ${sockets}`)
      assert.ok(Object.values(endings).every((n) => n > 200), JSON.stringify(endings))
      // Files: none left. Sockets: the HTTP clients keep idle connections for reuse, one or two
      // with one stream at a time (a stream may open while the last one's connection is on its
      // way back to the pool); one left per aborted stream would be hundreds.
      assert.ok(after.files <= before.files, 'file descriptors')
      assert.ok(Math.max(after.sockets, ...sockets) <= before.sockets + 2, `sockets: ${before.sockets}, then ${sockets}, ${after.sockets}`)
      // RSS rises by some 35 MiB over the first thousand streams (allocator arenas, JIT; measured
      // flat from there to 8,000) and then stays flat: a leak of one body per stream would be
      // hundreds of MiB.
      assert.ok(after.rss - before.rss < 64 * 1024 * KiB, `RSS (MiB, every 250 streams): ${rss}`)
      assert.ok(Math.max(...rss.slice(4)) - rss[3] < 16, `RSS (MiB, every 250 streams): ${rss}`)
    })
  }
})
