'use strict'
// `npm run package`: builds the release binary for this platform into its npm/<platform>/ package
// and writes to dist/ the tarballs `npm publish` would upload: the main package and that platform
// package. The release workflow runs the same script on one runner per platform.
//
// Linux glibc binaries are linked against glibc 2.17 with cargo-zigbuild (Zig as the linker and C
// compiler), so they load on every maintained glibc distribution; the script installs
// cargo-zigbuild and Zig from PyPI into .venv-tools/ when they are not on PATH, and checks the
// result's symbol versions with objdump.

const { spawnSync, execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { platformKey, binaryName, packageName } = require('../lib/platform')
const { build } = require('./build')

const root = path.join(__dirname, '..')
const dist = path.join(root, 'dist')
const GLIBC_FLOOR = '2.17'
const ZIG_TOOLS = ['cargo-zigbuild==0.24.1', 'ziglang==0.17.1']

const RUST_ARCH = { x64: 'x86_64', arm64: 'aarch64' }

/** PATH with cargo-zigbuild on it, installing it into .venv-tools/ if needed. */
function zigPath() {
  const venvBin = path.join(root, '.venv-tools', process.platform === 'win32' ? 'Scripts' : 'bin')
  const PATH = `${venvBin}${path.delimiter}${process.env.PATH}`
  if (spawnSync('cargo-zigbuild', ['--version'], { env: { ...process.env, PATH } }).status === 0) return PATH
  console.error(`$ python3 -m venv .venv-tools && pip install ${ZIG_TOOLS.join(' ')}`)
  execFileSync('python3', ['-m', 'venv', path.join(root, '.venv-tools')], { stdio: 'inherit' })
  execFileSync(path.join(venvBin, 'pip'), ['install', '-q', ...ZIG_TOOLS], { stdio: 'inherit' })
  return PATH
}

/** The newest GLIBC_x.y symbol version a shared object needs, or null if it needs none. */
function glibcNeeded(file) {
  const symbols = execFileSync('objdump', ['-T', file], { encoding: 'utf8', maxBuffer: 64 << 20 })
  const versions = [...symbols.matchAll(/GLIBC_(\d+)\.(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])])
  if (!versions.length) return null
  const [major, minor] = versions.reduce((a, b) => (b[0] > a[0] || (b[0] === a[0] && b[1] > a[1]) ? b : a))
  return `${major}.${minor}`
}

const older = (a, b) => {
  const [x, y] = [a, b].map((v) => v.split('.').map(Number))
  return x[0] < y[0] || (x[0] === y[0] && x[1] <= y[1])
}

/** Builds this platform's binary into npm/<key>/ and returns its path. */
function buildBinary(key) {
  const dir = path.join(root, 'npm', key)
  if (!fs.existsSync(path.join(dir, 'package.json'))) throw new Error(`No npm/${key} package: ${key} is not a release target`)
  const dest = path.join(dir, binaryName(key))
  if (key.endsWith('-gnu') && process.platform === 'linux') {
    const target = `${RUST_ARCH[process.arch]}-unknown-linux-gnu.${GLIBC_FLOOR}`
    build({ subcommand: 'zigbuild', target, dest, env: { ...process.env, PATH: zigPath() } })
    const needed = glibcNeeded(dest)
    if (needed && !older(needed, GLIBC_FLOOR)) throw new Error(`${dest} needs GLIBC_${needed}, above ${GLIBC_FLOOR}`)
    console.error(`${binaryName(key)} needs glibc ${needed ?? 'none'} (floor ${GLIBC_FLOOR})`)
  } else {
    build({ dest })
  }
  return dest
}

/** `npm pack` of `dir` into dist/; returns the tarball's path. */
function pack(dir) {
  // npm is a .cmd script on Windows, which only a shell runs.
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dist], {
    cwd: dir,
    encoding: 'utf8',
    shell: process.platform === 'win32',
  })
  return path.join(dist, JSON.parse(out)[0].filename)
}

function main() {
  const key = platformKey()
  fs.mkdirSync(dist, { recursive: true })
  const binary = buildBinary(key)
  const tarballs = [pack(root), pack(path.join(root, 'npm', key))]
  const mb = (f) => `${(fs.statSync(f).size / 1e6).toFixed(1)} MB`
  console.error(`${path.relative(root, binary)}: ${mb(binary)}`)
  for (const t of tarballs) console.error(`${path.relative(root, t)}: ${mb(t)}`)
  return { key, package: packageName(key), binary, tarballs }
}

module.exports = { glibcNeeded, GLIBC_FLOOR }

if (require.main === module) {
  try {
    main()
  } catch (e) {
    console.error(e.message)
    process.exit(1)
  }
}
