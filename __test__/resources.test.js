'use strict'
// Resource bounds of the streaming core: memory stays flat on a 1 GiB stream of random bytes, and
// aborted streams give their file descriptors back.

const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const { spawnSync } = require('node:child_process')
const path = require('node:path')
const { freshRoot, localProvider } = require('./helpers/local')
const { sleep } = require('./helpers/util')

const MiB = 1024 * 1024
const GiB = 1024 * MiB

const openFds = () => fs.readdirSync('/proc/self/fd').length
const describeFds = () =>
  fs.readdirSync('/proc/self/fd').map((fd) => {
    try {
      return `${fd} -> ${fs.readlinkSync(`/proc/self/fd/${fd}`)}`
    } catch {
      return `${fd} -> ?`
    }
  })

describe('stream resources', () => {
  const dir = freshRoot('resources')
  const provider = localProvider(dir)
  // 1 GiB of random bytes (real content: a wrong offset or a lost chunk changes the digest).
  const bigKey = 'big/1gib.bin'
  let digest
  before(() => {
    fs.mkdirSync(path.join(dir, 'big'))
    const fd = fs.openSync(path.join(dir, bigKey), 'w')
    const h = crypto.createHash('sha256')
    for (let i = 0; i < GiB / MiB; i++) {
      const b = crypto.randomBytes(MiB)
      fs.writeSync(fd, b)
      h.update(b)
    }
    fs.closeSync(fd)
    digest = h.digest('hex')
  })
  after(() => fs.rmSync(path.join(dir, bigKey), { force: true }))

  for (const responseType of ['node', 'web']) {
    it(`${responseType}: streaming 1 GiB grows peak RSS by under 64 MiB, byte-exact`, { timeout: 300_000 }, () => {
      // In a child that does nothing else; the kernel's peak (VmHWM), so no peak is missed.
      const script = `
        const lib = require(${JSON.stringify(path.join(__dirname, '..'))})
        const crypto = require('node:crypto'), fs = require('node:fs')
        const hwm = () => Number(/VmHWM:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) * 1024
        process.env.CRUNCHYCONE_LOCALSTORAGE_PATH = ${JSON.stringify(dir)}
        const provider = new lib.LocalStorageProvider()
        ;(async () => {
          for await (const _ of (await provider.getFileStream(${JSON.stringify(bigKey)}, { end: 4 * 1048576 - 1, responseType: '${responseType}' })).stream) {}
          const base = hwm(), h = crypto.createHash('sha256')
          let total = 0
          for await (const c of (await provider.getFileStream(${JSON.stringify(bigKey)}, { responseType: '${responseType}' })).stream) { h.update(c); total += c.byteLength }
          console.log(JSON.stringify({ growth: hwm() - base, total, digest: h.digest('hex') }))
        })().catch((e) => { console.error(e); process.exit(1) })`
      const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' })
      assert.equal(r.status, 0, r.stderr)
      const out = JSON.parse(r.stdout)
      assert.deepEqual([out.total, out.digest], [GiB, digest])
      console.log(`${responseType}: peak RSS growth ${(out.growth / MiB).toFixed(1)} MiB`)
      assert.ok(out.growth < 64 * MiB, `peak RSS grew by ${(out.growth / MiB).toFixed(1)} MiB`)
    })
  }

  it('1,000 streams aborted at random points give every file descriptor back', async () => {
    const body = Buffer.alloc(4 * MiB + 17, 1)
    await provider.uploadFile({ external_id: 'fd', key: 'fd/file.bin', buffer: body })
    // Warm up lazily created threads and their descriptors before counting.
    for (let i = 0; i < 5; i++) {
      const s = await provider.getFileStream('fd/file.bin')
      for await (const _ of s.stream);
    }
    const before = openFds()
    const listed = describeFds()
    let seed = 42
    const random = (n) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n)
    for (let i = 0; i < 1000; i++) {
      const controller = new AbortController()
      const responseType = i % 2 ? 'web' : 'node'
      const mode = random(4)
      if (mode === 0) {
        // Abort while opening.
        const p = provider.getFileStream('fd/file.bin', { signal: controller.signal, responseType })
        controller.abort()
        await p.catch(() => {})
        continue
      }
      const s = await provider.getFileStream('fd/file.bin', { signal: controller.signal, responseType, start: random(1000) })
      const stopAfter = mode === 1 ? 0 : random(5)
      let chunks = 0
      try {
        for await (const _ of s.stream) {
          if (++chunks > stopAfter) controller.abort()
        }
        if (stopAfter === 0) controller.abort()
      } catch (e) {
        assert.equal(e.name, 'AbortError')
      }
    }
    // Release happens at once, but the blocking thread finishing an in-flight read closes last.
    let after = openFds()
    for (let i = 0; i < 500 && after > before; i++) {
      await sleep(20)
      after = openFds()
    }
    assert.equal(after, before, `new descriptors: ${describeFds().filter((d) => !listed.includes(d)).join(', ')}`)
  })

  it('streams share the read-ahead budget: chunks shrink as more streams are open', async () => {
    // 32 MiB shared: one stream reads 1 MiB chunks; each of 64 open streams a quarter of its share.
    const firstChunk = async (s) => {
      for await (const chunk of s.stream) {
        await s.cleanup()
        return chunk.byteLength
      }
    }
    await provider.uploadFile({ external_id: 'budget', key: 'budget/file.bin', buffer: crypto.randomBytes(4 * MiB) })
    assert.equal(await firstChunk(await provider.getFileStream('budget/file.bin')), MiB)
    const many = await Promise.all(Array.from({ length: 64 }, () => provider.getFileStream('budget/file.bin')))
    const sizes = await Promise.all(many.map(firstChunk))
    assert.ok(sizes.every((n) => n <= 128 * 1024 && n >= 64 * 1024), String(sizes))
  })

  it('cleanup(), cancel and results dropped unread all give their descriptors back', async () => {
    const before = openFds()
    for (let i = 0; i < 100; i++) {
      const s = await provider.getFileStream('fd/file.bin', { responseType: i % 2 ? 'web' : 'node' })
      if (i % 3 === 0) await s.cleanup()
      else if (i % 3 === 1) (i % 2 ? s.stream.cancel() : s.stream.destroy())
      // else: dropped without reading or cleanup, for the garbage collector
    }
    let after = openFds()
    for (let i = 0; i < 500 && after > before; i++) {
      global.gc?.()
      await sleep(20)
      after = openFds()
    }
    assert.equal(after, before)
  })
})
