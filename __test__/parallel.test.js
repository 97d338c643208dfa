'use strict'
// Parallel ranged reads (src/parts.rs) with a small part size, so a few MiB cross many parts:
// byte-exact full, ranged and suffix reads, and an object replaced mid-read failing the stream
// with Conflict instead of mixing versions. (The rest of issue #14's cases are still to come.)

const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const emulators = require('../scripts/emulators')
const { S3CompatibleProvider, AzureStorageProvider, StorageError, setParallelConnectionLimit } = require('..')

const PART = 5 * 65536
const PARALLEL = { partSize: PART, connections: 4, threshold: 0 }

describe('parallel ranged reads', () => {
  const servers = {}
  before(async () => {
    ;[servers.s3, servers.azure] = await Promise.all([emulators.moto('parallel'), emulators.azurite('parallel')])
  })
  after(() => Promise.all(Object.values(servers).map((s) => s.stop())))

  const providers = {
    s3: () => new S3CompatibleProvider({ accessKeyId: 'a', secretAccessKey: 'b', region: 'us-east-1', bucket: 'parallel', endpoint: servers.s3.endpoint, forcePathStyle: true, parallel: PARALLEL }),
    azure: () => new AzureStorageProvider({ accountName: servers.azure.accountName, accountKey: servers.azure.accountKey, containerName: 'parallel', endpoint: servers.azure.endpoint, parallel: PARALLEL }),
  }
  const data = crypto.randomBytes(16 * PART + 12345)

  for (const [name, make] of Object.entries(providers)) {
    it(`${name}: full, ranged and suffix reads across part boundaries are byte-exact`, async () => {
      const p = make()
      await p.uploadFile({ external_id: 'x', key: 'big.bin', buffer: data })
      const cases = [
        [{}, data],
        [{ start: PART - 1, end: 7 * PART + 1 }, data.subarray(PART - 1, 7 * PART + 2)],
        [{ start: 3 * PART }, data.subarray(3 * PART)],
        [{ suffix: 2 * PART + 7 }, data.subarray(data.length - 2 * PART - 7)],
      ]
      for (const [options, want] of cases) {
        const r = await p.getFileStream('big.bin', options)
        const chunks = []
        for await (const c of r.stream) chunks.push(c)
        const got = Buffer.concat(chunks)
        assert.equal(r.contentLength, want.length, JSON.stringify(options))
        assert.ok(got.equals(want), `${JSON.stringify(options)}: ${got.length} bytes, not the ${want.length} asked for`)
      }
    })

    it(`${name}: an object replaced mid-read fails the stream with Conflict, never mixing versions`, async () => {
      const p = make()
      await p.uploadFile({ external_id: 'x', key: 'swap.bin', buffer: data })
      const r = await p.getFileStream('swap.bin', { parallel: { connections: 2 } })
      const got = []
      let replaced = false
      await assert.rejects(
        (async () => {
          for await (const c of r.stream) {
            got.push(c)
            if (!replaced) {
              replaced = true
              await p.uploadFile({ external_id: 'y', key: 'swap.bin', buffer: crypto.randomBytes(data.length) })
            }
          }
        })(),
        (e) => e instanceof StorageError && e.code === 'Conflict' && /changed while it was being read/.test(e.message),
      )
      const read = Buffer.concat(got)
      assert.ok(read.length < data.length)
      assert.ok(read.equals(data.subarray(0, read.length)), 'every byte delivered is from the first version')
    })

    it(`${name}: a process-wide limit of one part request still reads every byte, in order`, async () => {
      setParallelConnectionLimit(1)
      try {
        const r = await make().getFileStream('big.bin')
        const chunks = []
        for await (const c of r.stream) chunks.push(c)
        assert.ok(Buffer.concat(chunks).equals(data))
      } finally {
        setParallelConnectionLimit(64)
      }
      for (const bad of [0, 1.5, '8', 5000]) {
        assert.throws(() => setParallelConnectionLimit(bad), (e) => e instanceof StorageError && e.code === 'InvalidInput' && /Invalid connection limit/.test(e.message))
      }
    })

    it(`${name}: parallel: false and bad settings`, async () => {
      const p = make()
      const r = await p.getFileStream('big.bin', { parallel: false, start: 0, end: 9 })
      const chunks = []
      for await (const c of r.stream) chunks.push(c)
      assert.ok(Buffer.concat(chunks).equals(data.subarray(0, 10)))
      await assert.rejects(p.getFileStream('big.bin', { parallel: { connections: 0 } }), (e) => e.code === 'InvalidInput' && /parallel\.connections 0/.test(e.message))
      await assert.rejects(p.getFileStream('big.bin', { parallel: { partSize: '8' } }), (e) => e.code === 'InvalidInput' && /Invalid parallel/.test(e.message))
    })
  }
})
