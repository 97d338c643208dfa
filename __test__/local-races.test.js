'use strict'
// LocalStorage's guarantees under attack from other processes: confinement to the root while a
// racer swaps a directory for a link, uploads and deletes of one key from two processes that
// never mix one upload's content with another's metadata, and temporary files of killed writers
// removed at the next construction or write (never those of live writers).

const { describe, it } = require('node:test')

const T = { timeout: 120_000 } // a hang is a failure with a name
const assert = require('node:assert/strict')
const { spawn, execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { freshRoot, localProvider } = require('./helpers/local')
const { collect } = require('./helpers/util')

const LIB = path.join(__dirname, '..')

/** Every file under `dir` (links as links), with its bytes, for a byte-for-byte comparison. */
function snapshot(dir) {
  const out = {}
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const p = path.join(e.parentPath, e.name)
    const rel = path.relative(dir, p)
    if (e.isSymbolicLink()) out[rel] = `link:${fs.readlinkSync(p)}`
    else if (e.isFile()) out[rel] = fs.readFileSync(p).toString('base64')
    else out[rel] = 'dir'
  }
  return out
}

/** Runs `code` in a child Node process (CommonJS, the library as `lib`), with `env`. */
function child(code, env = {}) {
  const proc = spawn(process.execPath, ['-e', `const lib = require(${JSON.stringify(LIB)});\n${code}`], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  })
  let stderr = ''
  proc.stderr.on('data', (d) => (stderr += d))
  proc.done = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal, stderr })))
  return proc
}

const tempFiles = (dir) => fs.readdirSync(dir).filter((n) => n.endsWith('.ccs-part'))

describe('local: confinement while another process swaps a directory for a link', () => {
  it('changes nothing outside the root, byte for byte, whatever the interleaving', T, async () => {
    const parent = freshRoot('race')
    const root = path.join(parent, 'root')
    const outside = path.join(parent, 'outside')
    fs.mkdirSync(path.join(root, 'd'), { recursive: true })
    fs.mkdirSync(outside)
    // The outside directory looks like a store of its own: a file and a valid sidecar for the same
    // key, so that an escaping delete, stream, upload or visibility change would show.
    const sidecar = (content) => JSON.stringify({ external_id: 'victim', key: 'd/victim.txt', contentType: 'text/plain', size: content.length, lastModified: new Date(0).toISOString(), url: '/files/d/victim.txt', visibility: 'private' }, null, 2)
    fs.writeFileSync(path.join(outside, 'victim.txt'), 'OUTSIDE')
    fs.writeFileSync(path.join(outside, 'victim.txt.json'), sidecar('OUTSIDE'))
    const before = snapshot(outside)

    const provider = localProvider(root)
    await provider.uploadFile({ external_id: 'victim', key: 'd/victim.txt', buffer: Buffer.from('INSIDE') })

    // The racer: `d` is the real directory, then a link to `outside`, then the directory again,
    // as fast as it can; it repairs the state when an upload recreated `d` meanwhile.
    const racer = child(`
      const fs = require('node:fs'), path = require('node:path')
      const root = ${JSON.stringify(root)}, outside = ${JSON.stringify(outside)}
      const d = path.join(root, 'd'), real = path.join(root, 'd.real')
      // Until the test has seen enough (it creates the stop file), or two minutes at most.
      const stop = ${JSON.stringify(path.join(parent, 'stop'))}, end = Date.now() + 120_000
      let swaps = 0
      for (let n = 0; Date.now() < end && (n % 100 !== 0 || !fs.existsSync(stop)); n++) {
        try { fs.renameSync(d, real) } catch {}
        try { fs.symlinkSync(outside, d); swaps++ } catch {}
        try { if (fs.lstatSync(d).isSymbolicLink()) fs.unlinkSync(d) } catch {}
        try { if (fs.existsSync(real) && fs.existsSync(d)) fs.rmSync(d, { recursive: true, force: true }) } catch {}
        try { fs.renameSync(real, d) } catch {}
      }
      try { fs.unlinkSync(d) } catch {}
      try { fs.renameSync(real, d) } catch {}
      console.log(swaps)
    `)
    let swaps = ''
    racer.stdout.on('data', (d) => (swaps += d))

    const outcomes = { ok: 0, refused: 0, other: new Set() }
    const attempt = async (op) => {
      try {
        const r = await op()
        outcomes.ok++
        return r
      } catch (e) {
        if (e.code === 'InvalidKey' || e.code === 'NotFound') outcomes.refused++
        else outcomes.other.add(`${e.code}: ${e.message}`)
      }
    }
    let racing = true
    racer.done.then(() => (racing = false))
    // Driven by counts, not a clock: enough rounds, successes and refusals, however loaded the machine.
    const enough = (i) => i >= 300 && outcomes.ok >= 200 && outcomes.refused >= 20
    for (let i = 0; racing && !enough(i); i++) {
      await Promise.all([
        attempt(() => provider.uploadFile({ external_id: `u${i}`, key: `d/upload-${i % 7}.txt`, buffer: Buffer.from(`upload ${i}`) })),
        attempt(() => provider.deleteFile('d/victim.txt')),
        attempt(async () => {
          const s = await provider.getFileStream('d/victim.txt')
          const bytes = (await collect(s.stream)).toString()
          assert.notEqual(bytes, 'OUTSIDE', 'a stream read a file outside the root')
        }),
        attempt(() => provider.setFileVisibility('d/victim.txt', i % 2 ? 'public' : 'private')),
        attempt(() => provider.listFiles({ prefix: 'd/' })),
        attempt(() => provider.findFileByExternalId('victim')),
        attempt(() => provider.fileExists('d/victim.txt')),
        // Put the victim back now and then, so deletes and visibility changes have a target.
        i % 5 === 0 && attempt(() => provider.uploadFile({ external_id: 'victim', key: 'd/victim.txt', buffer: Buffer.from('INSIDE') })),
      ])
    }
    fs.writeFileSync(path.join(parent, 'stop'), '')
    const { code, stderr } = await racer.done
    assert.equal(code, 0, stderr)
    const after = snapshot(outside)
    const changed = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((f) => before[f] !== after[f])
    assert.deepEqual(changed, [], 'files outside the root changed')
    // The race really happened: the link was in place many times, and operations met it.
    assert.ok(Number(swaps) > 100, `only ${swaps} swaps`)
    assert.ok(outcomes.ok >= 200 && outcomes.refused >= 20, JSON.stringify({ ...outcomes, other: [...outcomes.other] }))
  })
})

describe('local: uploads and deletes of the same keys from two processes', () => {
  it("never leave one upload's content with another's metadata", T, async () => {
    const root = freshRoot('mixed')
    const KEYS = ['k/a.bin', 'k/b.bin']
    // Each writer uploads content that names itself in its first bytes, with that name as the
    // external id, in sizes the other writer does not use; a round may delete instead.
    const writer = (name, sizes) =>
      child(`
        process.env.CRUNCHYCONE_LOCALSTORAGE_PATH = ${JSON.stringify(root)}
        const provider = new lib.LocalStorageProvider()
        const sizes = ${JSON.stringify(sizes)}
        process.on('message', async ({ round }) => {
          const jobs = ${JSON.stringify(KEYS)}.map(async (key, k) => {
            if ((round + k) % 4 === 3) return provider.deleteFile(key)
            const id = '${name}-' + round + '-' + k
            const body = Buffer.alloc(sizes[(round + k) % sizes.length], '${name}'.charCodeAt(0))
            body.write(id.padEnd(32))
            await provider.uploadFile({ external_id: id, key, buffer: body })
          })
          const results = await Promise.allSettled(jobs)
          const failed = results.find((r) => r.status === 'rejected')
          process.send({ round, error: failed ? String(failed.reason) : null })
        })
        process.send({ ready: true })
      `)
    const writers = [writer('A', [65536, 131072]), writer('B', [262144, 196608])]
    const next = (w) => new Promise((resolve) => w.once('message', resolve))
    await Promise.all(writers.map(next))
    const provider = localProvider(root)
    let checked = 0
    for (let round = 0; round < 300; round++) {
      const replies = writers.map(next)
      for (const w of writers) w.send({ round })
      for (const reply of await Promise.all(replies)) assert.equal(reply.error, null)
      for (const key of KEYS) {
        const file = path.join(root, key)
        const hasFile = fs.existsSync(file)
        const hasMeta = fs.existsSync(`${file}.json`)
        assert.equal(hasFile, hasMeta, `round ${round}: ${key} content ${hasFile}, metadata ${hasMeta}`)
        if (!hasFile) continue
        const content = fs.readFileSync(file)
        const meta = JSON.parse(fs.readFileSync(`${file}.json`, 'utf8'))
        assert.equal(content.subarray(0, 32).toString().trim(), meta.external_id, `round ${round}: ${key}`)
        assert.equal(content.length, meta.size, `round ${round}: ${key}`)
        const found = await provider.findFileByExternalId(meta.external_id)
        assert.equal(found?.key, key)
        checked++
      }
    }
    for (const w of writers) w.kill()
    assert.ok(checked > 200, `only ${checked} keys were present to check`)
    assert.deepEqual(tempFiles(path.join(root, 'k')), [])
  })
})

describe('local: temporary files of writers that died', () => {
  // A child that starts an upload whose source never ends, and says where its temporary file is.
  const stalledUpload = (root, key) =>
    child(`
      process.env.CRUNCHYCONE_LOCALSTORAGE_PATH = ${JSON.stringify(root)}
      const provider = new lib.LocalStorageProvider()
      const { Readable } = require('node:stream')
      let sent = 0
      const stream = new Readable({ read() { if (sent++ < 4) this.push(Buffer.alloc(1 << 20, 7)); else process.send('stalled') } })
      provider.uploadFile({ external_id: 'dying', key: ${JSON.stringify(key)}, stream }).catch(() => {})
      process.on('message', () => {}) // keeps the process (and its upload) alive until killed
    `)
  const stalled = (proc) => new Promise((resolve) => proc.once('message', resolve))

  it('are removed at the next construction on the root, while a live writer keeps its own', T, async () => {
    const root = freshRoot('killed')
    const dir = path.join(root, 'up')
    const dying = stalledUpload(root, 'up/big.bin')
    await stalled(dying)
    const [temp] = tempFiles(dir)
    assert.ok(temp, 'the upload has a temporary file')
    assert.ok(fs.statSync(path.join(dir, temp)).size >= 3 << 20, 'it holds what was written so far')
    dying.kill('SIGKILL')
    await dying.done
    assert.deepEqual(tempFiles(dir), [temp], 'nothing removed it yet')

    const live = stalledUpload(root, 'up/other.bin')
    await stalled(live)
    const liveTemp = tempFiles(dir).find((n) => n !== temp)
    assert.ok(liveTemp)
    localProvider(root) // construction sweeps
    assert.deepEqual(tempFiles(dir), [liveTemp], "the dead writer's file is gone, the live one's kept")
    live.kill('SIGKILL')
    await live.done
  })

  it('are removed at the next write into their directory', T, async () => {
    const root = freshRoot('killed-write')
    const provider = localProvider(root)
    await provider.uploadFile({ external_id: 'first', key: 'w/first.txt', buffer: Buffer.from('1') })
    const dying = stalledUpload(root, 'w/big.bin')
    await stalled(dying)
    dying.kill('SIGKILL')
    await dying.done
    const dir = path.join(root, 'w')
    assert.equal(tempFiles(dir).length, 1)
    // Not a write into that directory: left alone.
    await provider.uploadFile({ external_id: 'elsewhere', key: 'other/x.txt', buffer: Buffer.from('x') })
    assert.equal(tempFiles(dir).length, 1)
    await provider.uploadFile({ external_id: 'second', key: 'w/second.txt', buffer: Buffer.from('2') })
    assert.deepEqual(tempFiles(dir), [])
    assert.deepEqual(fs.readdirSync(dir).sort(), ['first.txt', 'first.txt.json', 'second.txt', 'second.txt.json'])
  })

  it('are never listed, served or addressable by key', T, async () => {
    const root = freshRoot('temp-names')
    const provider = localProvider(root)
    const dying = stalledUpload(root, 't/big.bin')
    await stalled(dying)
    const [temp] = tempFiles(path.join(root, 't'))
    try {
      assert.deepEqual((await provider.listFiles()).files, [])
      for (const call of [
        () => provider.getFileStream(`t/${temp}`),
        () => provider.fileExists(`t/${temp}`),
        () => provider.deleteFile(`t/${temp}`),
        () => provider.uploadFile({ external_id: 'x', key: `t/${temp}`, buffer: Buffer.from('x') }),
      ]) {
        await assert.rejects(call(), { code: 'InvalidKey', message: /reserved for the store's temporary files/ })
      }
      assert.ok(fs.existsSync(path.join(root, 't', temp)))
    } finally {
      dying.kill('SIGKILL')
      await dying.done
    }
  })
})

describe('local: fileExists answers as getFileStream does', () => {
  it('is false for a directory and a FIFO, true only for a regular file', async () => {
    const root = freshRoot('exists')
    const provider = localProvider(root)
    fs.mkdirSync(path.join(root, 'dir.txt'))
    execFileSync('mkfifo', [path.join(root, 'pipe.txt')])
    await provider.uploadFile({ external_id: 'e', key: 'file.txt', buffer: Buffer.from('f') })
    assert.equal(await provider.fileExists('dir.txt'), false)
    assert.equal(await provider.fileExists('pipe.txt'), false)
    assert.equal(await provider.fileExists('file.txt'), true)
    for (const key of ['dir.txt', 'pipe.txt']) await assert.rejects(provider.getFileStream(key), { code: 'NotFound' })
  })
})
