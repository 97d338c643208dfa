'use strict'
// The package as a user gets it: `npm run package` builds the tarballs, which are installed into a
// fresh consumer project whose PATH holds only node, npm and sh (no cargo, no C compiler), offline.

const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync, execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { glibcNeeded, GLIBC_FLOOR } = require('../scripts/package')
const { binaryName, packageName, platformKey } = require('../lib/platform')

const root = path.join(__dirname, '..')
const pkg = require('../package.json')
const key = platformKey()
const KEYS = ['linux-x64-gnu', 'linux-arm64-gnu', 'linux-x64-musl', 'linux-arm64-musl', 'darwin-x64', 'darwin-arm64', 'win32-x64-msvc']

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ccs-package-'))
let main, platform

/** A bin folder with node, npm and sh only. */
function toolPath() {
  const bin = path.join(work, 'bin')
  fs.mkdirSync(bin, { recursive: true })
  const npm = fs.realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim())
  for (const [name, target] of [['node', process.execPath], ['npm', npm], ['sh', '/bin/sh']]) {
    if (!fs.existsSync(path.join(bin, name))) fs.symlinkSync(target, path.join(bin, name))
  }
  return bin
}

/**
 * Runs `cmd` in `cwd` with nothing of this environment but the bare tools, and an npm cache of the
 * consumer's own (a cached platform package would otherwise satisfy the optional dependency).
 */
function run(cwd, cmd, args) {
  const env = {
    PATH: toolPath(),
    HOME: path.join(cwd, '.home'),
    TMPDIR: os.tmpdir(),
    npm_config_cache: path.join(cwd, '.npm-cache'),
    npm_config_update_notifier: 'false',
  }
  return spawnSync(cmd, args, { cwd, env, encoding: 'utf8' })
}

/** A new consumer project with `tarballs` installed (`npm install --offline`, extra `flags`). */
function consumer(name, tarballs, flags = []) {
  const dir = path.join(work, name)
  fs.mkdirSync(dir)
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }))
  const r = run(dir, 'npm', ['install', '--offline', '--no-audit', '--no-fund', '--foreground-scripts', ...flags, ...tarballs])
  return { dir, install: r }
}

function du(dir) {
  let total = 0
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += fs.statSync(path.join(entry.parentPath, entry.name)).size
  }
  return total
}

// What a consumer does: load every entry point (CommonJS and ESM) and stream a range.
const CHECK = `
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { randomBytes } = require('node:crypto')
;(async () => {
  const subpaths = Object.keys(require('crunchycone-storage/package.json').exports).filter((s) => s !== './package.json')
  for (const s of subpaths) {
    const id = 'crunchycone-storage' + s.slice(1)
    const cjs = require(id)
    const esm = await import(id)
    assert.ok(Object.keys(cjs).length > 0, id)
    for (const name of Object.keys(cjs)) assert.equal(typeof esm[name], typeof cjs[name], id + ' ' + name)
  }
  const root = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'consumer-'))
  process.env.CRUNCHYCONE_LOCALSTORAGE_PATH = root
  const { LocalStorageProvider } = require('crunchycone-storage/storage/providers/local')
  const provider = new LocalStorageProvider()
  const bytes = randomBytes(100000)
  await provider.uploadFile({ external_id: 'x', key: 'a/b.bin', buffer: bytes })
  const s = await provider.getFileStream('a/b.bin', { start: 1000, end: 65999 })
  const chunks = []
  for await (const c of s.stream) chunks.push(c)
  assert.deepEqual(Buffer.concat(chunks), bytes.subarray(1000, 66000))
  assert.equal(s.contentLength, 65000)
  console.log(JSON.stringify({ subpaths: subpaths.length, loaded: require.resolve('crunchycone-storage-${key}') }))
})().catch((e) => { console.error(e); process.exit(1) })
`

describe('the package, installed from its tarballs', () => {
  after(() => fs.rmSync(work, { recursive: true, force: true }))
  before(() => {
    const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'package.js')], { cwd: root, encoding: 'utf8' })
    assert.equal(r.status, 0, r.stderr)
    main = path.join(root, 'dist', `${pkg.name}-${pkg.version}.tgz`)
    platform = path.join(root, 'dist', `${packageName(key)}-${pkg.version}.tgz`)
    assert.ok(fs.existsSync(main) && fs.existsSync(platform), r.stderr)
  })

  it('installs with the platform package and no toolchain, and works', () => {
    const { dir, install } = consumer('with-binary', [main, platform])
    assert.equal(install.status, 0, install.stderr)
    assert.doesNotMatch(install.stdout + install.stderr, /EBADENGINE|building one from source|cargo/)
    // The binary came from the platform package: nothing was built into the main package.
    assert.equal(fs.existsSync(path.join(dir, 'node_modules', pkg.name, binaryName(key))), false)
    assert.deepEqual(fs.readdirSync(path.join(dir, 'node_modules')).sort(), ['.bin', '.package-lock.json', pkg.name, packageName(key)].sort())
    // The command-line tool is linked and runs (npx crunchycone-storage).
    const cli = run(dir, path.join(dir, 'node_modules', '.bin', 'crunchycone-storage'), ['--version'])
    assert.equal(cli.stdout, `${pkg.version}\n`, cli.stderr)
    const size = du(path.join(dir, 'node_modules'))
    console.log(`node_modules: ${(size / 1e6).toFixed(1)} MB`)
    assert.ok(size <= 30e6, `node_modules holds ${size} bytes`)
    fs.writeFileSync(path.join(dir, 'check.js'), CHECK)
    const r = run(dir, 'node', ['check.js'])
    assert.equal(r.status, 0, r.stderr)
    const result = JSON.parse(r.stdout)
    assert.equal(result.subpaths, Object.keys(pkg.exports).length - 1)
    assert.ok(result.loaded.includes(path.join('node_modules', packageName(key))), result.loaded)
  })

  it('works with --ignore-scripts too', () => {
    const { dir, install } = consumer('ignore-scripts', [main, platform], ['--ignore-scripts'])
    assert.equal(install.status, 0, install.stderr)
    fs.writeFileSync(path.join(dir, 'check.js'), CHECK)
    const r = run(dir, 'node', ['check.js'])
    assert.equal(r.status, 0, r.stderr)
  })

  for (const flags of [[], ['--ignore-scripts']]) {
    it(`without a binary or a toolchain${flags.length ? ' (--ignore-scripts)' : ''}, installs and then fails at require with one clear error`, () => {
      const { dir, install } = consumer(`no-binary${flags.join('')}`, [main], flags)
      assert.equal(install.status, 0, install.stderr)
      if (!flags.length) {
        // The install script's one line: what is missing and what to run.
        const line = (install.stdout + install.stderr).split('\n').find((l) => l.includes('no prebuilt binary loads'))
        assert.ok(line, install.stdout)
        assert.match(line, new RegExp(`for ${key} and building one from source needs Rust \\d+\\.\\d+\\+ .*npm rebuild ${pkg.name} --ignore-scripts=false$`))
      }
      const r = run(dir, 'node', ['-e', `try { require('${pkg.name}') } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })) }`])
      assert.equal(r.status, 0, r.stderr)
      const { code, message } = JSON.parse(r.stdout)
      assert.equal(code, 'ERR_CRUNCHYCONE_STORAGE_NATIVE')
      assert.equal(message.split('\n').length, 1)
      assert.ok(message.startsWith(`${pkg.name}: no native binary for ${key} (${packageName(key)} is not installed)`), message)
      assert.ok(message.includes(`${packageName(key)}@${pkg.version}`), message)
      assert.ok(message.endsWith(`npm rebuild ${pkg.name} --ignore-scripts=false`), message)
    })
  }

  it(`links the ${key} binary against glibc ${GLIBC_FLOOR} at most`, { skip: !key.endsWith('-gnu') && 'not a glibc platform' }, () => {
    const needed = glibcNeeded(path.join(root, 'npm', key, binaryName(key)))
    const [major, minor] = needed.split('.').map(Number)
    assert.ok(major === 2 && minor <= 17, `needs GLIBC_${needed}`)
  })

  it('ships no test tooling, and a LICENSE', () => {
    const files = execFileSync('tar', ['tzf', main], { encoding: 'utf8' }).trim().split('\n').map((f) => f.replace(/^package\//, ''))
    for (const f of ['LICENSE', 'README.md', 'package.json', 'index.js', 'lib/native.js', 'scripts/install.js', 'src/lib.rs', 'Cargo.lock']) {
      assert.ok(files.includes(f), f)
    }
    const unwanted = files.filter((f) => /^(__test__|bench|npm|target|\.github)\/|^scripts\/(test|emulators|package)\.js$|\.node$/.test(f))
    assert.deepEqual(unwanted, [])
    const packed = JSON.parse(execFileSync('tar', ['xzOf', main, 'package/package.json'], { encoding: 'utf8' }))
    assert.equal(packed.dependencies, undefined, 'no runtime dependencies')
    const platformFiles = execFileSync('tar', ['tzf', platform], { encoding: 'utf8' }).trim().split('\n').sort()
    assert.deepEqual(platformFiles, ['package/LICENSE', 'package/README.md', `package/${binaryName(key)}`, 'package/package.json'])
  })
})

describe('the platform packages', () => {
  it('are listed as optional dependencies at the package version, one per release target', () => {
    assert.deepEqual(fs.readdirSync(path.join(root, 'npm')).sort(), [...KEYS].sort())
    assert.deepEqual(pkg.optionalDependencies, Object.fromEntries(KEYS.map((k) => [packageName(k), pkg.version])))
    assert.equal(pkg.napi.targets.length, KEYS.length)
  })

  for (const k of KEYS) {
    it(`${k} names its os, cpu and libc`, () => {
      const p = JSON.parse(fs.readFileSync(path.join(root, 'npm', k, 'package.json'), 'utf8'))
      const [os_, cpu, abi] = k.split('-')
      assert.equal(p.name, packageName(k))
      assert.equal(p.version, pkg.version)
      assert.deepEqual(p.os, [os_])
      assert.deepEqual(p.cpu, [cpu])
      assert.deepEqual(p.libc, abi === 'gnu' ? ['glibc'] : abi === 'musl' ? ['musl'] : undefined)
      assert.equal(p.main, binaryName(k))
      assert.deepEqual(p.engines, pkg.engines)
    })
  }
})
