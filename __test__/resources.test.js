'use strict'
// Resource bounds of the streaming core: memory stays flat on a 1 GiB stream, and aborted streams
// give their file descriptors back.

const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
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
  // A sparse 1 GiB file: real reads through the page cache, no disk space needed.
  const bigKey = 'big/1gib.bin'
  fs.mkdirSync(path.join(dir, 'big'))
  fs.writeFileSync(path.join(dir, bigKey), '')
  fs.truncateSync(path.join(dir, bigKey), GiB)

  it('warm-up: the first 1 GiB read fills the page cache and starts the runtime', async () => {
    const s = await provider.getFileStream(bigKey)
    let total = 0
    for await (const chunk of s.stream) total += chunk.byteLength
    assert.equal(total, GiB)
  })

  for (const responseType of ['node', 'web']) {
    it(`${responseType}: streaming 1 GiB keeps RSS growth under 64 MiB`, async () => {
      global.gc?.()
      const base = process.memoryUsage().rss
      let peak = base
      let total = 0
      const s = await provider.getFileStream(bigKey, { responseType })
      for await (const chunk of s.stream) {
        total += chunk.byteLength
        if (chunk[0] !== 0 || chunk[chunk.byteLength - 1] !== 0) throw new Error('unexpected byte')
        peak = Math.max(peak, process.memoryUsage().rss)
      }
      assert.equal(total, GiB)
      const growth = peak - base
      assert.ok(growth < 64 * MiB, `RSS grew by ${(growth / MiB).toFixed(1)} MiB`)
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
    for (let i = 0; i < 50 && after > before; i++) {
      await sleep(20)
      after = openFds()
    }
    assert.equal(after, before, `new descriptors: ${describeFds().filter((d) => !listed.includes(d)).join(', ')}`)
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
    for (let i = 0; i < 100 && after > before; i++) {
      global.gc?.()
      await sleep(20)
      after = openFds()
    }
    assert.equal(after, before)
  })
})
