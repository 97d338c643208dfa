'use strict'
// The read-ahead budget bounds everything streams hold, the HTTP clients' buffers included: 200
// concurrent streams of 16 MiB each, read to the end, grow the reading process's peak RSS (VmHWM,
// the kernel's own high-water mark, so no peak is missed) by at most 256 MiB, for local files and
// for network providers alike. The servers run in processes of their own; the reader runs in a
// child process that does nothing else.

const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { spawn, spawnSync } = require('node:child_process')
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const emulators = require('../scripts/emulators')
const { startGcsProxy } = require('./helpers/gcsproxy')
const { runScript } = require('./helpers/util')

const LIB = path.join(__dirname, '..')
const STREAMS = 200
const SIZE = 16 << 20
const BOUND = 256 << 20
const T = { timeout: 300_000 }
const bytes = crypto.randomBytes(SIZE)
const digest = crypto.createHash('sha256').update(bytes).digest('hex')

/**
 * In a child: `setup` (code that defines `provider` and `key`), then STREAMS streams of `key` read
 * at once, each checked against the digest. Prints the peak RSS growth.
 */
function measure(setup) {
  const script = `
    const lib = require(${JSON.stringify(LIB)})
    const crypto = require('node:crypto')
    const fs = require('node:fs')
    const hwm = () => Number(/VmHWM:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) * 1024
    ;(async () => {
      ${setup}
      const warm = await provider.getFileStream(key, { start: 0, end: 0 })
      for await (const _ of warm.stream) {}
      const base = hwm()
      const streams = await Promise.all(Array.from({ length: ${STREAMS} }, () => provider.getFileStream(key)))
      const digests = await Promise.all(streams.map(async (s) => {
        const h = crypto.createHash('sha256')
        for await (const chunk of s.stream) h.update(chunk)
        return h.digest('hex')
      }))
      console.log(JSON.stringify({ growth: hwm() - base, digests: [...new Set(digests)] }))
    })().catch((e) => { console.error(e); process.exit(1) })
  `
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', maxBuffer: 16 << 20 })
  assert.equal(r.status, 0, r.stderr)
  const result = JSON.parse(r.stdout)
  assert.deepEqual(result.digests, [digest], 'every stream delivered the whole object')
  return result.growth
}

const report = (growth) => {
  console.log(`peak RSS growth: ${(growth / 2 ** 20).toFixed(0)} MiB`)
  assert.ok(growth <= BOUND, `peak RSS grew by ${(growth / 2 ** 20).toFixed(0)} MiB`)
}

describe(`memory: ${STREAMS} concurrent streams of 16 MiB`, () => {
  const stops = []
  after(() => Promise.all(stops.map((s) => s())))

  it('local files', T, () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ccs-memory-'))
    fs.writeFileSync(path.join(root, 'big.bin'), bytes)
    report(measure(`process.env.CRUNCHYCONE_LOCALSTORAGE_PATH = ${JSON.stringify(root)}; const provider = new lib.LocalStorageProvider(); const key = 'big.bin'`))
    fs.rmSync(root, { recursive: true, force: true })
  })

  it('CrunchyCone (API server and signed-URL bytes in another process)', T, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccs-memory-api-'))
    const server = spawn(process.execPath, [path.join(__dirname, 'servers', 'crunchycone.js')], {
      env: { ...process.env, PORT: '0', API_KEY: 'sk_memory_test_key', PROJECT_ID: 'p', STORAGE_DIR: dir },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    stops.push(async () => {
      server.kill()
      fs.rmSync(dir, { recursive: true, force: true })
    })
    const url = await new Promise((resolve) => server.stdout.on('data', (d) => /on (http:\S+)/.test(String(d)) && resolve(/on (http:\S+)/.exec(String(d))[1])))
    const provider = new (require('..').CrunchyConeProvider)({ apiUrl: url, apiKey: 'sk_memory_test_key', projectId: 'p' })
    await provider.uploadFile({ external_id: 'big', key: 'big.bin', buffer: bytes })
    report(measure(`const provider = new lib.CrunchyConeProvider({ apiUrl: ${JSON.stringify(url)}, apiKey: 'sk_memory_test_key', projectId: 'p' }); const key = 'big.bin'`))
  })

  it('GCS (fake-gcs-server)', T, async () => {
    const server = await emulators.fakeGcs('memory')
    const shim = await startGcsProxy(server.endpoint) // the upload needs it; the reads go straight to the server
    stops.push(() => shim.close(), () => server.stop())
    const { GCPStorageProvider } = require('..')
    await new GCPStorageProvider({ projectId: 'p', bucket: 'memory', apiEndpoint: shim.endpoint }).uploadFile({ external_id: 'big', key: 'big.bin', buffer: bytes })
    report(measure(`const provider = new lib.GCPStorageProvider({ projectId: 'p', bucket: 'memory', apiEndpoint: ${JSON.stringify(server.endpoint)} }); const key = 'big.bin'`))
  })
})

describe('memory: uploads', () => {
  const stops = []
  after(() => Promise.all(stops.map((s) => s())))

  it('a 256 MiB GCS upload from a stream (through the multipart shim) grows peak RSS by under 64 MiB', T, async () => {
    const server = await emulators.fakeGcs('memory-up')
    const shim = await startGcsProxy(server.endpoint)
    stops.push(() => shim.close(), () => server.stop())
    // The shim runs in this process, so the child is waited for without blocking it.
    const script = `
      const lib = require(${JSON.stringify(LIB)})
      const fs = require('node:fs')
      const { Readable } = require('node:stream')
      const hwm = () => Number(/VmHWM:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) * 1024
      const provider = new lib.GCPStorageProvider({ projectId: 'p', bucket: 'memory-up', apiEndpoint: ${JSON.stringify(shim.endpoint)} })
      const chunk = require('node:crypto').randomBytes(1 << 20)
      ;(async () => {
        await provider.uploadFile({ external_id: 'warm', key: 'warm.bin', buffer: chunk })
        const base = hwm()
        let made = 0
        const source = new Readable({ read() { this.push(made++ < 256 ? chunk : null) } })
        const r = await provider.uploadFile({ external_id: 'big-up', key: 'big-up.bin', stream: source })
        console.log(JSON.stringify({ growth: hwm() - base, size: r.size }))
      })().catch((e) => { console.error(e); process.exit(1) })`
    const out = await runScript(script)
    assert.equal(out.size, 256 << 20)
    console.log(`peak RSS growth: ${(out.growth / 2 ** 20).toFixed(0)} MiB`)
    assert.ok(out.growth < 64 << 20, `peak RSS grew by ${(out.growth / 2 ** 20).toFixed(0)} MiB`)
  })
})
