'use strict'
// npm runs this on install. When a native binary loads (the prebuilt platform package, or an
// earlier build) it does nothing. Otherwise it builds from source if cargo, rustc (at least the
// crate's rust-version) and a C compiler are on PATH; without them it prints one line and exits 0,
// so that what the user meets is the loader's error at require() time, which says what to do.
// CRUNCHYCONE_STORAGE_BUILD_FROM_SOURCE=1 builds even when a binary loads.

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { NAME, platformKey } = require('../lib/platform')

const root = path.join(__dirname, '..')
const force = Boolean(process.env.CRUNCHYCONE_STORAGE_BUILD_FROM_SOURCE)

function loads() {
  try {
    require('../lib/native')
    return true
  } catch {
    return false
  }
}

function version(cmd) {
  const r = spawnSync(cmd, ['--version'], { encoding: 'utf8' })
  return r.status === 0 ? r.stdout.trim() : null
}

/** What is missing to build from source, or null. */
function missingToolchain() {
  const needed = fs.readFileSync(path.join(root, 'Cargo.toml'), 'utf8').match(/^rust-version\s*=\s*"([\d.]+)"/m)[1]
  const rustc = version('rustc')
  if (!version('cargo') || !rustc) return `Rust ${needed}+ (cargo and rustc on PATH, https://rustup.rs)`
  const [major, minor] = rustc.match(/(\d+)\.(\d+)/).slice(1).map(Number)
  const [needMajor, needMinor] = needed.split('.').map(Number)
  if (major < needMajor || (major === needMajor && minor < needMinor)) {
    return `Rust ${needed}+ (found ${rustc}; run rustup update)`
  }
  const cc = process.platform === 'win32' ? ['cl'] : [process.env.CC, 'cc', 'gcc', 'clang'].filter(Boolean)
  if (process.platform !== 'win32' && !cc.some((c) => version(c))) {
    return 'a C compiler (cc, gcc or clang on PATH, or CC), which the TLS library needs'
  }
  return null
}

function main() {
  if (!force && loads()) return
  const missing = missingToolchain()
  if (missing) {
    console.error(
      `${NAME}: no prebuilt binary loads for ${platformKey()} and building one from source needs ${missing}; ` +
        `install it, then run: npm rebuild ${NAME} --ignore-scripts=false`,
    )
    return
  }
  // Inside a consumer's node_modules the build tree (hundreds of MB) goes to a temporary folder that
  // is removed afterwards; a clone keeps target/ for incremental rebuilds.
  const consumer = root.split(path.sep).includes('node_modules')
  const targetDir = consumer ? fs.mkdtempSync(path.join(os.tmpdir(), `${NAME}-build-`)) : undefined
  try {
    require('./build').build({ targetDir })
  } catch (e) {
    console.error(`${NAME}: ${e.message}`)
    process.exitCode = 1
  } finally {
    if (targetDir) fs.rmSync(targetDir, { recursive: true, force: true })
  }
}

main()
