'use strict'
// The crunchycone-storage command end to end, in a temporary directory with no CRUNCHYCONE_*
// variables (so LocalStorage in ./uploads): every command, a large `get` with --range, --json,
// the progress bar under a pseudo-terminal (script), `serve` answering curl, and the exit codes.

const { describe, it, before } = require('node:test')
const assert = require('node:assert/strict')
const { execFile, spawn } = require('node:child_process')
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const BIN = path.join(__dirname, '..', 'bin', 'crunchycone-storage.js')
const T = { timeout: 120_000 }
const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'ccs-cli-'))
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CRUNCHYCONE_') && !k.startsWith('BACKUP_')))

/** Runs the command: `{ code, stdout, stderr }` (stdout as a Buffer with `raw`). */
function cli(args, { raw = false, extraEnv = {} } = {}) {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd, env: { ...env, ...extraEnv }, encoding: raw ? 'buffer' : 'utf8', maxBuffer: 64 << 20 }, (error, stdout, stderr) =>
      resolve({ code: error ? error.code : 0, stdout, stderr: String(stderr) }),
    )
  })
}

/** Runs the command under a pseudo-terminal (util-linux `script`): everything it printed. */
function underTerminal(args) {
  return new Promise((resolve) => {
    const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')
    execFile('script', ['-qec', command, '/dev/null'], { cwd, env, encoding: 'utf8', maxBuffer: 16 << 20 }, (error, stdout) => resolve({ code: error ? error.code : 0, output: stdout }))
  })
}

const big = crypto.randomBytes(24 << 20)
const small = Buffer.from('hello, storage\n')

describe('crunchycone-storage CLI', () => {
  before(() => {
    fs.writeFileSync(path.join(cwd, 'big.bin'), big)
    fs.writeFileSync(path.join(cwd, 'notes.txt'), small)
  })

  it('put: uploads into ./uploads and says what it did; --json gives the result', T, async () => {
    const r = await cli(['put', 'notes.txt', '--key', 'docs/notes.txt', '--external-id', 'notes-1'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'uploaded docs/notes.txt (15 B, text/plain) external_id notes-1\n')
    assert.equal(r.stderr, '') // no terminal: no progress bar
    assert.deepEqual(fs.readFileSync(path.join(cwd, 'uploads', 'docs', 'notes.txt')), small)
    const j = await cli(['put', 'big.bin', '--key', 'media/big.bin', '--external-id', 'big-1', '--content-type', 'video/mp4', '--json'])
    assert.equal(j.code, 0, j.stderr)
    const result = JSON.parse(j.stdout)
    assert.equal(result.key, 'media/big.bin')
    assert.equal(result.size, big.length)
    assert.equal(result.contentType, 'video/mp4')
    assert.equal(result.external_id, 'big-1')
    const generated = JSON.parse((await cli(['put', 'notes.txt', '--json'])).stdout)
    assert.match(generated.key, /^files\/.+-\d+\.txt$/)
  })

  it('get: to a file, to stdout, a range, a suffix, by external id', T, async () => {
    const r = await cli(['get', 'media/big.bin', '-o', 'copy.bin'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'saved copy.bin (24.0 MiB)\n')
    assert.deepEqual(fs.readFileSync(path.join(cwd, 'copy.bin')), big)
    assert.deepEqual((await cli(['get', 'docs/notes.txt'], { raw: true })).stdout, small)
    const ranged = await cli(['get', 'media/big.bin', '--range', '1000000-17777215', '-o', 'part.bin', '--json'])
    assert.equal(ranged.code, 0, ranged.stderr)
    assert.deepEqual(JSON.parse(ranged.stdout).range, { start: 1_000_000, end: 17_777_215, total: big.length })
    assert.deepEqual(fs.readFileSync(path.join(cwd, 'part.bin')), big.subarray(1_000_000, 17_777_216))
    assert.deepEqual((await cli(['get', 'media/big.bin', '--range', '-500'], { raw: true })).stdout, big.subarray(big.length - 500))
    assert.deepEqual((await cli(['get', 'media/big.bin', '--range=100-'], { raw: true })).stdout, big.subarray(100))
    assert.deepEqual((await cli(['get', '--external-id', 'notes-1'], { raw: true })).stdout, small)
    // A device is written to directly; a link is followed, not replaced.
    assert.equal((await cli(['get', 'docs/notes.txt', '-o', '/dev/null'])).code, 0)
    fs.writeFileSync(path.join(cwd, 'target.txt'), 'old')
    fs.symlinkSync('target.txt', path.join(cwd, 'link.txt'))
    assert.equal((await cli(['get', 'docs/notes.txt', '-o', 'link.txt'])).code, 0)
    assert.equal(fs.lstatSync(path.join(cwd, 'link.txt')).isSymbolicLink(), true)
    assert.deepEqual(fs.readFileSync(path.join(cwd, 'target.txt')), small)
    const nowhere = await cli(['get', 'docs/notes.txt', '-o', 'no/such/dir/f.txt'])
    assert.deepEqual([nowhere.code, nowhere.stderr], [1, `crunchycone-storage: Cannot write ${path.join(cwd, 'no/such/dir/f.txt')}: no such directory\n`])
  })

  it('get: a failed download leaves no file behind', T, async () => {
    const r = await cli(['get', 'media/big.bin', '--range', `${big.length}-`, '-o', 'never.bin'])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^crunchycone-storage: Invalid range: start \(25165824\) is beyond the end of the file/)
    assert.equal(r.stderr.split('\n').length, 2)
    assert.deepEqual(fs.readdirSync(cwd).filter((f) => f.includes('never')), [])
  })

  it('ls and search, as text and --json', T, async () => {
    const r = await cli(['ls', '--prefix', 'media/'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^\s+24\.0 MiB {2}\d{4}-\d\d-\d\dT[\d:.]+Z {2}media\/big\.bin\n$/)
    const all = JSON.parse((await cli(['ls', '--json'])).stdout)
    assert.deepEqual(all.files.map((f) => f.key).sort().filter((k) => !k.startsWith('files/')), ['docs/notes.txt', 'media/big.bin'])
    const limited = JSON.parse((await cli(['ls', '--limit', '1', '--json'])).stdout)
    assert.equal(limited.files.length, 1)
    assert.equal(limited.hasMore, true)
    const found = JSON.parse((await cli(['search', 'notes', '--json'])).stdout)
    assert.ok(found.files.some((f) => f.key === 'docs/notes.txt'))
    assert.equal((await cli(['ls', '--prefix', 'nothing/'])).stdout, '(no files)\n')
  })

  it('url and visibility', T, async () => {
    assert.equal((await cli(['url', 'docs/notes.txt'])).stdout, '/uploads/docs/notes.txt\n')
    assert.equal((await cli(['visibility', 'docs/notes.txt'])).stdout, 'private\n')
    const set = await cli(['visibility', 'docs/notes.txt', 'public'])
    assert.equal(set.code, 0, set.stderr)
    assert.equal(set.stdout, 'docs/notes.txt is now public\n')
    assert.equal(JSON.parse((await cli(['visibility', 'docs/notes.txt', '--json'])).stdout).visibility, 'public')
  })

  it('rm, and "not found" as exit code 3 with one line', T, async () => {
    await cli(['put', 'notes.txt', '--key', 'tmp/gone.txt', '--external-id', 'gone'])
    const r = await cli(['rm', 'tmp/gone.txt'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'deleted tmp/gone.txt\n')
    assert.equal(fs.existsSync(path.join(cwd, 'uploads', 'tmp', 'gone.txt')), false)
    for (const args of [['rm', 'tmp/gone.txt'], ['get', 'tmp/gone.txt'], ['url', 'tmp/gone.txt'], ['get', '--external-id', 'gone'], ['visibility', 'tmp/gone.txt', 'public']]) {
      const miss = await cli(args)
      assert.equal(miss.code, 3, `${args}: ${miss.stderr}`)
      assert.match(miss.stderr, /^crunchycone-storage: File (not found: tmp\/gone\.txt|with key tmp\/gone\.txt not found|with external_id "gone" not found)\n$/, args.join(' '))
    }
  })

  it('bad usage is exit code 2 with one line; --help for every command', T, async () => {
    for (const args of [['bogus'], ['get'], ['put'], ['get', 'a', '--range', 'x-y'], ['get', 'a', '--range', '5-2'], ['serve', '--port', '99999'], ['ls', '--limit', '-3'], ['ls', '--frobnicate'], ['visibility', 'a', 'secret'], ['get', 'a', '--provider', 'no such'], ['sync', 'local:', 'env']]) {
      const r = await cli(args)
      assert.equal(r.code, 2, `${args}: ${r.stderr}`)
      assert.match(r.stderr, /^crunchycone-storage: .+\n$/, args.join(' '))
    }
    const top = await cli(['--help'])
    assert.equal(top.code, 0)
    for (const command of ['put', 'get', 'ls', 'search', 'url', 'rm', 'visibility', 'sync', 'serve']) {
      assert.match(top.stdout, new RegExp(`^  ${command}`, 'm'))
      const h = await cli([command, '--help'])
      assert.equal(h.code, 0)
      assert.match(h.stdout, new RegExp(`^Usage: crunchycone-storage ${command}`))
    }
    assert.equal((await cli([])).code, 2)
    assert.equal((await cli(['--version'])).stdout, `${require('../package.json').version}\n`)
  })

  it('a failure that is not "not found" is exit code 1, with one line and no stack', T, async () => {
    const r = await cli(['ls'], { extraEnv: { CRUNCHYCONE_STORAGE_PROVIDER: 'crunchycone' } })
    assert.equal(r.code, 1)
    assert.equal(r.stderr, 'crunchycone-storage: Missing required environment variables for storage provider: CRUNCHYCONE_API_URL, CRUNCHYCONE_API_KEY, CRUNCHYCONE_PROJECT_ID\n')
  })

  it('a progress bar with bytes, rate and ETA on a terminal', T, async () => {
    const up = await underTerminal(['put', 'big.bin', '--key', 'media/again.bin', '--external-id', 'again'])
    assert.equal(up.code, 0, up.output)
    // Frames redrawn in place (\r), the last one complete (the terminal turns \n into \r\n).
    assert.match(up.output, /^\r\[#*\.*\] +\d+%/)
    assert.match(up.output, /\r\[#{24}\] 100% {2}24\.0 MiB \/ 24\.0 MiB {2}[\d.]+ (KiB|MiB|GiB)\/s {2}ETA 0s\x1b\[K\r\n/)
    assert.match(up.output, /uploaded media\/again\.bin \(24\.0 MiB/)
    const down = await underTerminal(['get', 'media/again.bin', '-o', 'again.bin'])
    assert.equal(down.code, 0, down.output)
    assert.match(down.output, /\[#{24}\] 100% {2}24\.0 MiB \/ 24\.0 MiB {2}[\d.]+ (KiB|MiB|GiB)\/s {2}ETA 0s/)
    assert.deepEqual(fs.readFileSync(path.join(cwd, 'again.bin')), big)
  })

  it('sync between providers named by spec and by environment prefix', T, async () => {
    const backup = fs.mkdtempSync(path.join(os.tmpdir(), 'ccs-cli-backup-'))
    const r = await cli(['sync', 'env', 'backup', '--prefix', 'docs/'], { extraEnv: { BACKUP_CRUNCHYCONE_STORAGE_PROVIDER: 'localstorage', BACKUP_CRUNCHYCONE_LOCALSTORAGE_PATH: backup } })
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, '1 scanned, 1 copied, 0 skipped, 0 deleted, 0 errors\n')
    assert.deepEqual(fs.readFileSync(path.join(backup, 'docs', 'notes.txt')), small)
    const again = JSON.parse((await cli(['sync', 'local:uploads', `local:${backup}`, '--prefix', 'docs/', '--json'])).stdout)
    assert.deepEqual([again.summary.copied, again.summary.skipped], [0, 1])
    const unknown = await cli(['sync', 'env', 'nowhere'])
    assert.equal(unknown.code, 2)
    assert.equal(unknown.stderr, 'crunchycone-storage: Provider "nowhere" is not configured: set NOWHERE_CRUNCHYCONE_STORAGE_PROVIDER and its variables\n')
  })

  it('serve answers GET and HEAD with ranges (curl -r), and stops on SIGTERM', T, async () => {
    const server = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--json'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    const { url } = await new Promise((resolve, reject) => {
      let out = ''
      let err = ''
      server.stdout.on('data', (d) => (out += d) && out.includes('}') && resolve(JSON.parse(out)))
      server.stderr.on('data', (d) => (err += d))
      server.once('exit', (c) => reject(new Error(`serve exited with ${c}: ${err}`)))
    })
    const curl = (args) => new Promise((resolve) => execFile('curl', ['-s', ...args], { encoding: 'buffer', maxBuffer: 64 << 20 }, (e, stdout) => resolve(stdout)))
    assert.deepEqual(await curl(['-r', '10-19', `${url}media/big.bin`]), big.subarray(10, 20))
    assert.deepEqual(await curl(['-r', '-7', `${url}media/big.bin`]), big.subarray(big.length - 7))
    const head = String(await curl(['-I', `${url}docs/notes.txt`]))
    assert.match(head, /^HTTP\/1\.1 200 OK\r\n/)
    assert.match(head, /\r\nContent-Length: 15\r\n/)
    assert.match(String(await curl(['-i', `${url}docs/missing.txt`])), /^HTTP\/1\.1 404 Not Found/)
    server.kill('SIGTERM')
    const code = await new Promise((r) => server.on('exit', r))
    assert.equal(code, 0)
  })
})
