'use strict'
// Parallel ranged reads (src/parts.rs) on every HTTP provider, each behind a fault proxy
// (helpers/faultproxy.js) and with a small part size, so a few MiB cross many parts: byte-exact full,
// ranged and suffix reads; an object replaced mid-read failing with Conflict instead of mixing
// versions; a part whose connection is cut survived byte-exact; an abort releasing every
// connection; a paused consumer stopping new part requests; the process-wide cap.

const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const { setTimeout: sleep } = require('node:timers/promises')
const { Readable } = require('node:stream')
const http = require('node:http')
const { withEnv } = require('./helpers/util')
const emulators = require('../scripts/emulators')
const { startFaultProxy } = require('./helpers/faultproxy')
const { startGcsProxy } = require('./helpers/gcsproxy')
const { startCrunchyConeServer } = require('./servers/crunchycone')
const lib = require('..')
const { StorageError, setParallelConnectionLimit } = lib

const PART = 5 * 65536
// singleWithinMs 0: on loopback every first response is fast, and these tests are about the parts.
const PARALLEL = { partSize: PART, connections: 4, threshold: 0, singleWithinMs: 0 }
const stops = []

/**
 * Each provider behind a fault proxy: `{ proxy, make(), replace(key, bytes), isRead(req) }`, where
 * `replace` swaps an object's bytes as another writer would and `isRead` tells the object reads.
 */
const SETUPS = {
  async s3() {
    const server = await emulators.moto('parallel')
    const proxy = await startFaultProxy(server.endpoint)
    stops.push(() => proxy.close(), () => server.stop())
    const make = (extra) => new lib.S3CompatibleProvider({ accessKeyId: 'a', secretAccessKey: 'b', region: 'us-east-1', bucket: 'parallel', endpoint: proxy.endpoint, forcePathStyle: true, parallel: PARALLEL, ...extra })
    const env = {
      CRUNCHYCONE_STORAGE_PROVIDER: 's3-custom',
      CRUNCHYCONE_S3_ACCESS_KEY_ID: 'a',
      CRUNCHYCONE_S3_SECRET_ACCESS_KEY: 'b',
      CRUNCHYCONE_S3_REGION: 'us-east-1',
      CRUNCHYCONE_S3_BUCKET: 'parallel',
      CRUNCHYCONE_S3_ENDPOINT: proxy.endpoint,
      CRUNCHYCONE_S3_FORCE_PATH_STYLE: 'true',
    }
    return { proxy, make, env }
  },
  async gcs() {
    const server = await emulators.fakeGcs('parallel')
    const shim = await startGcsProxy(server.endpoint)
    const proxy = await startFaultProxy(shim.endpoint)
    stops.push(() => proxy.close(), () => shim.close(), () => server.stop())
    const make = (extra) => new lib.GCPStorageProvider({ projectId: 'test', bucket: 'parallel', apiEndpoint: proxy.endpoint, parallel: PARALLEL, ...extra })
    return { proxy, make }
  },
  async azure() {
    const server = await emulators.azurite('parallel')
    const proxy = await startFaultProxy(server.endpoint.replace(/\/devstoreaccount1$/, ''))
    stops.push(() => proxy.close(), () => server.stop())
    const connectionString = server.connectionString.replace(/BlobEndpoint=[^;]+/, `BlobEndpoint=${proxy.endpoint}/devstoreaccount1`)
    const make = (extra) => new lib.AzureStorageProvider({ connectionString, containerName: 'parallel', parallel: PARALLEL, ...extra })
    const env = { CRUNCHYCONE_STORAGE_PROVIDER: 'azure', CRUNCHYCONE_AZURE_STORAGE_CONNECTION_STRING: connectionString, CRUNCHYCONE_AZURE_STORAGE_CONTAINER: 'parallel' }
    return { proxy, make, env }
  },
  async crunchycone() {
    // The API and the signed URLs' bytes both go through the proxy.
    const proxy = await startFaultProxy()
    const server = await startCrunchyConeServer({ apiKey: 'sk_test_parallel', projectId: 'proj_1', fileServerUrl: `${proxy.endpoint}/signed` })
    proxy.target = server.url
    stops.push(() => proxy.close(), () => server.close())
    const make = (extra) => new lib.CrunchyConeProvider({ apiUrl: proxy.endpoint, apiKey: 'sk_test_parallel', projectId: 'proj_1', parallel: PARALLEL, ...extra })
    const env = { CRUNCHYCONE_STORAGE_PROVIDER: 'crunchycone', CRUNCHYCONE_API_URL: proxy.endpoint, CRUNCHYCONE_API_KEY: 'sk_test_parallel', CRUNCHYCONE_PROJECT_ID: 'proj_1' }
    // A file's bytes replaced in place (its id, and so its signed URL, unchanged); `sameEtag`: as by
    // a server that does not change the ETag (so If-Match cannot tell).
    const replace = (key, bytes, { sameEtag = false } = {}) => {
      const record = [...server.files.values()].find((r) => r.file_path === key && r.upload_status !== 'pending')
      fs.writeFileSync(path.join(server.dir, record.file_id), bytes)
      if (!sameEtag) record.etag = crypto.createHash('md5').update(bytes).digest('hex')
    }
    return { proxy, make, env, replace, replaceUnderSameEtag: (key, bytes) => replace(key, bytes, { sameEtag: true }), isRead: (req) => req.method === 'GET' && req.url.startsWith('/signed/') }
  },
}

const isObjectRead = (req) => req.method === 'GET' && !req.url.includes('?')
/** A read's requests after its first: those asking for a range that does not start at `from`. */
const partAfter = (isRead, from) => (req) => isRead(req) && /^bytes=\d+-/.test(req.headers.range ?? '') && !req.headers.range.startsWith(`bytes=${from}-`)

async function readAll(stream) {
  const chunks = []
  for await (const c of stream) chunks.push(c)
  return Buffer.concat(chunks)
}

/** Polls `check` until it holds (or `ms` pass), for what settles after a request ends. */
async function eventually(check, ms = 3000) {
  const until = Date.now() + ms
  while (!check() && Date.now() < until) await sleep(20)
  return check()
}

after(async () => {
  for (const stop of stops.reverse()) await stop()
})

const data = crypto.randomBytes(16 * PART + 12345)

for (const [name, setup] of Object.entries(SETUPS)) {
  describe(`parallel ranged reads: ${name}`, () => {
    let s
    // The proxy's record of the reads (any GET of the object) and of the part requests since `since`.
    const recorded = (since, test) => s.proxy.requests.slice(since).filter((q) => test({ ...q, headers: { range: q.range } })).length
    const readsSince = (since) => recorded(since, (q) => q.method === 'GET' && s.isRead(q))
    const partsSince = (since) => recorded(since, partAfter(s.isRead, 0))
    before(async () => {
      s = await setup()
      s.isRead ??= isObjectRead
      s.replace ??= (key, bytes) => s.make().uploadFile({ external_id: `r-${key}`, key, buffer: bytes })
      await s.make().uploadFile({ external_id: 'big', key: 'big.bin', buffer: data })
    })

    it('full, ranged, offset and suffix reads across part boundaries are byte-exact, over several connections', async () => {
      const cases = [
        [{}, data],
        [{ start: PART - 1, end: 7 * PART + 1 }, data.subarray(PART - 1, 7 * PART + 2)],
        [{ start: 3 * PART }, data.subarray(3 * PART)],
        [{ suffix: 2 * PART + 7 }, data.subarray(data.length - 2 * PART - 7)],
      ]
      for (const [options, want] of cases) {
        const before = s.proxy.requests.length
        const r = await s.make().getFileStream('big.bin', options)
        const got = await readAll(r.stream)
        assert.equal(r.contentLength, want.length, JSON.stringify(options))
        assert.ok(got.equals(want), `${JSON.stringify(options)}: ${got.length} bytes, not the ${want.length} asked for`)
        const reads = s.proxy.requests.slice(before).filter((q) => q.method === 'GET' && q.range)
        assert.ok(reads.length >= Math.ceil(want.length / PART) - 1, `${JSON.stringify(options)}: ${reads.length} ranged requests`)
      }
    })

    it('a part whose connection is cut mid-body is fetched again from where it stopped, byte-exact', async () => {
      const before = s.proxy.requests.length
      s.proxy.set({ body: { mode: 'cut', after: 70_000, times: 2, match: partAfter(s.isRead, 0) } })
      try {
        const r = await s.make().getFileStream('big.bin')
        assert.ok((await readAll(r.stream)).equals(data))
      } finally {
        s.proxy.set({})
      }
      // Two parts were cut after 70,000 bytes; each was asked for again from that byte on.
      const resumed = s.proxy.requests.slice(before).filter((q) => q.range && /^bytes=(\d+)-/.exec(q.range)[1] % PART === 70000)
      assert.equal(resumed.length, 2, JSON.stringify(s.proxy.requests.slice(before).map((q) => q.range)))
    })

    it('a part that keeps failing fails the stream, never ending it short', async () => {
      s.proxy.set({ body: { mode: 'cut', after: 1000, match: partAfter(s.isRead, 0) } })
      try {
        const r = await s.make().getFileStream('big.bin')
        let got = 0
        await assert.rejects(
          (async () => {
            for await (const c of r.stream) got += c.length
          })(),
          (e) => e instanceof StorageError && ['Truncated', 'Unavailable', 'Provider'].includes(e.code),
        )
        assert.ok(got < data.length)
      } finally {
        s.proxy.set({})
      }
    })

    it('an object of another length under the same ETag fails the stream with Conflict', { skip: name !== 'crunchycone' && 'the server changes the ETag' }, async () => {
      await s.make().uploadFile({ external_id: 'grow', key: 'grow.bin', buffer: data })
      const r = await s.make().getFileStream('grow.bin', { parallel: { connections: 2 } })
      const got = []
      await assert.rejects(
        (async () => {
          for await (const c of r.stream) {
            if (!got.length) s.replaceUnderSameEtag('grow.bin', Buffer.concat([data, data]))
            got.push(c)
          }
        })(),
        (e) => e instanceof StorageError && e.code === 'Conflict' && /changed while it was being read/.test(e.message),
      )
      // Every byte delivered is the first version's (the same bytes, up to where it stopped).
      const read = Buffer.concat(got)
      assert.ok(read.length < data.length)
      assert.ok(read.equals(data.subarray(0, read.length)))
    })

    it('an object replaced mid-read fails the stream with Conflict, never mixing versions', async () => {
      await s.make().uploadFile({ external_id: 'swap', key: 'swap.bin', buffer: data })
      const r = await s.make().getFileStream('swap.bin', { parallel: { connections: 2 } })
      const got = []
      let replaced = false
      await assert.rejects(
        (async () => {
          for await (const c of r.stream) {
            got.push(c)
            if (!replaced) {
              replaced = true
              await s.replace('swap.bin', crypto.randomBytes(data.length))
            }
          }
        })(),
        (e) => e instanceof StorageError && e.code === 'Conflict' && /changed while it was being read/.test(e.message),
      )
      const read = Buffer.concat(got)
      assert.ok(read.length < data.length)
      assert.ok(read.equals(data.subarray(0, read.length)), 'every byte delivered is from the first version')
    })

    it('an abort mid-read ends every part request at once, for a Web and a Node stream', async () => {
      // Parts trickle, so several are in flight when the abort comes.
      s.proxy.set({ body: { mode: 'trickle', after: 0, chunk: 4096, delayMs: 5, match: partAfter(s.isRead, 0) } })
      try {
        for (const responseType of ['web', 'node']) {
          const controller = new AbortController()
          const r = await s.make().getFileStream('big.bin', { signal: controller.signal, responseType })
          const chunks = responseType === 'web' ? null : r.stream[Symbol.asyncIterator]()
          const read = () => (chunks ? chunks.next() : reader.read())
          const reader = chunks ? null : r.stream.getReader()
          await read()
          assert.ok(await eventually(() => s.proxy.active >= 3), `${responseType}: ${s.proxy.active} answers in flight, expected the first and parts`)
          controller.abort()
          await assert.rejects(
            (async () => {
              for (;;) if ((await read()).done) break
            })(),
            (e) => e === controller.signal.reason && e.name === 'AbortError',
          )
          assert.ok(await eventually(() => s.proxy.active === 0), `${responseType}: ${s.proxy.active} answers still being sent after the abort`)
        }
      } finally {
        s.proxy.set({})
      }
    })

    it('a consumer that stops reading stops new part requests and the bytes taken from the server', async () => {
      const big = crypto.randomBytes(128 * PART)
      await s.make().uploadFile({ external_id: 'paused', key: 'paused.bin', buffer: big })
      const before = s.proxy.requests.length
      const received = s.proxy.received
      const r = await s.make().getFileStream('paused.bin', { parallel: { connections: 4 }, responseType: 'web' })
      const reader = r.stream.getReader()
      // Read into the second part (the first response's part is over), then pause.
      const head = []
      let got = 0
      while (got < PART + 1000) {
        const { value } = await reader.read()
        head.push(value)
        got += value.length
      }
      await sleep(1000) // paused: no read for a second
      const parts = partsSince(before)
      const taken = s.proxy.received - received
      // A JS read may cross part boundaries; the next byte to deliver is in part k (counted from 1;
      // a read that ends a part has already moved on to the next). The stream holds at most
      // `connections` parts: part k and three ahead, so parts 2 to k + 3 are all that may have been
      // asked for. What the sockets' buffers hold comes on top of the bytes taken (a few MiB on
      // loopback), far from the whole.
      const k = Math.floor(got / PART) + 1
      assert.ok(parts <= k + 4 - 2, `${parts} part requests while paused in part ${k} (${got} bytes read)`)
      assert.ok(taken < big.length / 2, `${taken} of ${big.length} bytes taken from the server while paused`)
      // Reading on delivers every byte, in order.
      const rest = await readAll(
        new ReadableStream({
          async pull(c) {
            const { done, value } = await reader.read()
            done ? c.close() : c.enqueue(value)
          },
        }),
      )
      assert.ok(Buffer.concat([...head, rest]).equals(big))
    })

    it('uploads keep at most partsInFlight parts on the wire, and store every byte', { skip: name === 'crunchycone' && 'one PUT per upload' }, async () => {
      const body = crypto.randomBytes(5 * 8 * 1024 * 1024 + 99)
      for (const [partsInFlight, atMost] of [[1, 1], [3, 3]]) {
        await sleep(50) // earlier answers closed
        s.proxy.peak = s.proxy.active
        await s.make().uploadFile({ external_id: `up${partsInFlight}`, key: `up${partsInFlight}.bin`, stream: Readable.from([body]), partsInFlight })
        assert.ok(s.proxy.peak <= atMost, `${s.proxy.peak} requests at once with partsInFlight ${partsInFlight}`)
        if (partsInFlight > 1) assert.ok(s.proxy.peak > 1, `parts went one at a time with partsInFlight ${partsInFlight}`)
        assert.ok((await readAll((await s.make().getFileStream(`up${partsInFlight}.bin`)).stream)).equals(body))
      }
      // The provider's partsInFlight is the default of its uploads.
      await sleep(50)
      s.proxy.peak = s.proxy.active
      await s.make({ partsInFlight: 1 }).uploadFile({ external_id: 'up-config', key: 'up-config.bin', stream: Readable.from([body]) })
      assert.equal(s.proxy.peak, 1, 'requests at once with the configuration\'s partsInFlight 1')
      // 2^32 + 1: a u32 would have wrapped it to 1.
      for (const bad of [0, 65, 1.5, '4', 2 ** 32 + 1]) {
        await assert.rejects(
          s.make().uploadFile({ external_id: 'bad', key: 'bad.bin', buffer: Buffer.alloc(10), partsInFlight: bad }),
          (e) => e instanceof StorageError && e.code === 'InvalidInput' && /partsInFlight/.test(e.message),
        )
        assert.throws(() => s.make({ partsInFlight: bad }), (e) => e instanceof StorageError && e.code === 'InvalidInput' && /configuration partsInFlight/.test(e.message))
      }
    })

    it('a process-wide limit of one part request still reads every byte, in order', async () => {
      setParallelConnectionLimit(1)
      try {
        assert.ok((await readAll((await s.make().getFileStream('big.bin')).stream)).equals(data))
      } finally {
        setParallelConnectionLimit(64)
      }
    })

    it('parallel: false uses one request; bad settings are refused', async () => {
      const p = s.make()
      const before = s.proxy.requests.length
      const r = await p.getFileStream('big.bin', { parallel: false })
      assert.ok((await readAll(r.stream)).equals(data))
      assert.equal(readsSince(before), 1)
      // So does a file handler given parallel: false, over the provider's setting.
      const server = http.createServer(lib.createFileHandler(p, { parallel: false }))
      await new Promise((r) => server.listen(0, '127.0.0.1', r))
      try {
        const since = s.proxy.requests.length
        const res = await fetch(`http://127.0.0.1:${server.address().port}/big.bin`)
        assert.ok(Buffer.from(await res.arrayBuffer()).equals(data))
        assert.equal(readsSince(since), 1)
      } finally {
        server.closeAllConnections()
        await new Promise((r) => server.close(r))
      }
      await assert.rejects(p.getFileStream('big.bin', { parallel: { connections: 0 } }), (e) => e.code === 'InvalidInput' && /parallel\.connections 0/.test(e.message))
      await assert.rejects(p.getFileStream('big.bin', { parallel: { partSize: '8' } }), (e) => e.code === 'InvalidInput' && /Invalid parallel/.test(e.message))
      // Whole numbers only: napi's u32 would take 2^32 + 8 as 8 and 8.9 as 8.
      for (const connections of [8.9, 2 ** 32 + 8, Infinity]) {
        await assert.rejects(p.getFileStream('big.bin', { parallel: { connections } }), (e) => e.code === 'InvalidInput' && /Invalid parallel\.connections/.test(e.message))
      }
    })

    it('a signed URL whose server does not say it serves ranges is read on one connection', { skip: name !== 'crunchycone' && 'object stores serve ranges' }, async () => {
      s.proxy.set({ dropHeaders: ['accept-ranges'] })
      try {
        const before = s.proxy.requests.length
        assert.ok((await readAll((await s.make().getFileStream('big.bin')).stream)).equals(data))
        assert.equal(readsSince(before), 1)
      } finally {
        s.proxy.set({})
      }
    })

    it('a read whose first part comes in time stays on one connection; a slow first response is split', async () => {
      // On loopback the first 320 KiB come well within a second: no part is asked for.
      let since = s.proxy.requests.length
      const fast = await s.make({ parallel: { ...PARALLEL, singleWithinMs: 1000 } }).getFileStream('big.bin')
      assert.ok((await readAll(fast.stream)).equals(data))
      assert.equal(partsSince(since), 0)
      // The first response trickles (4 KiB every 5 ms: its part would take 400 ms): parts are asked
      // for once 100 ms have passed, and the read is still byte-exact.
      const isFirst = (req) => s.isRead(req) && !partAfter(s.isRead, 0)(req)
      s.proxy.set({ body: { mode: 'trickle', after: 0, chunk: 4096, delayMs: 5, match: isFirst } })
      try {
        since = s.proxy.requests.length
        const slow = await s.make({ parallel: { ...PARALLEL, singleWithinMs: 100 } }).getFileStream('big.bin')
        assert.ok((await readAll(slow.stream)).equals(data))
        assert.ok(partsSince(since) >= 10, `${partsSince(since)} part requests`)
      } finally {
        s.proxy.set({})
      }
      await assert.rejects(s.make().getFileStream('big.bin', { parallel: { singleWithinMs: -1 } }), (e) => e.code === 'InvalidInput' && /parallel\.singleWithinMs -1/.test(e.message))
    })

    it('the environment configures the transfer settings of initializeStorageProvider() and the CLI', { skip: name === 'gcs' && 'no endpoint variable for GCS' }, async () => {
      const readWith = async (vars) =>
        withEnv({ ...s.env, ...vars }, async () => {
          lib.initializeStorageProvider()
          const since = s.proxy.requests.length
          assert.ok((await readAll((await lib.getStorageProvider().getFileStream('big.bin')).stream)).equals(data))
          return readsSince(since)
        })
      // A 16-part object over the threshold set: several requests, or one with parallel reads off.
      const split = { CRUNCHYCONE_STORAGE_PARALLEL_PART_SIZE: String(PART), CRUNCHYCONE_STORAGE_PARALLEL_THRESHOLD: '0', CRUNCHYCONE_STORAGE_PARALLEL_SINGLE_WITHIN_MS: '0' }
      assert.ok((await readWith(split)) > 1)
      assert.equal(await readWith({ ...split, CRUNCHYCONE_STORAGE_PARALLEL: 'false' }), 1)
      const refused = [
        ['CRUNCHYCONE_STORAGE_PARALLEL', 'maybe', /Invalid CRUNCHYCONE_STORAGE_PARALLEL "maybe": expected true or false/],
        ['CRUNCHYCONE_STORAGE_PARALLEL_CONNECTIONS', 'many', /Invalid CRUNCHYCONE_STORAGE_PARALLEL_CONNECTIONS "many": expected a whole number/],
        ['CRUNCHYCONE_STORAGE_PARTS_IN_FLIGHT', '-2', /Invalid CRUNCHYCONE_STORAGE_PARTS_IN_FLIGHT "-2"/],
        ['CRUNCHYCONE_STORAGE_PARTS_IN_FLIGHT', '0', /configuration partsInFlight: expected a whole number from 1 to 64, got number 0/],
      ]
      for (const [variable, value, message] of refused) {
        await withEnv({ ...s.env, [variable]: value }, async () => {
          assert.throws(() => lib.initializeStorageProvider(), (e) => e instanceof StorageError && e.code === 'InvalidInput' && message.test(e.message))
        })
      }
    })
  })
}

describe('setParallelConnectionLimit', () => {
  it('refuses what is not a whole number from 1 to 4096', () => {
    for (const bad of [0, 1.5, '8', 5000, -1, NaN]) {
      assert.throws(() => setParallelConnectionLimit(bad), (e) => e instanceof StorageError && e.code === 'InvalidInput' && /Invalid connection limit/.test(e.message))
    }
  })
})
