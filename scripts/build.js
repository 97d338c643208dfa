'use strict'
// Builds the native addon from source with cargo and puts it where lib/native.js looks for it.
// `node scripts/build.js [--debug]` builds for this machine into the package folder; the install
// and package scripts call `build()`. No napi CLI is needed: cargo and a C compiler are.

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { binaryName } = require('../lib/platform')

const root = path.join(__dirname, '..')

/** The file cargo writes for the cdylib on this OS. */
function artifactName(platform = process.platform) {
  if (platform === 'win32') return 'crunchycone_storage.dll'
  return platform === 'darwin' ? 'libcrunchycone_storage.dylib' : 'libcrunchycone_storage.so'
}

/**
 * Runs `cargo build` (or `cargo <subcommand>`, e.g. `zigbuild`) and copies the library to `dest`.
 * Returns `dest`. Throws with cargo's exit status when the build fails.
 */
function build({ release = true, target, subcommand = 'build', targetDir, dest, env } = {}) {
  const args = [subcommand, '--locked']
  if (release) args.push('--release')
  if (target) args.push('--target', target)
  if (targetDir) args.push('--target-dir', targetDir)
  console.error(`$ cargo ${args.join(' ')}`)
  const r = spawnSync('cargo', args, { cwd: root, stdio: 'inherit', env: env ?? process.env })
  if (r.status !== 0) {
    throw new Error(`cargo ${subcommand} failed (${r.error?.message ?? `exit status ${r.status}`})`)
  }
  // A target like x86_64-unknown-linux-gnu.2.17 (zigbuild's glibc floor) builds into the plain
  // triple's folder.
  const dir = path.join(targetDir ?? path.join(root, 'target'), target ? target.replace(/\.[\d.]+$/, '') : '', release ? 'release' : 'debug')
  dest ??= path.join(root, binaryName())
  // Copied beside and renamed over: a process that has the old binary mapped keeps it intact.
  const tmp = `${dest}.${process.pid}.tmp`
  fs.copyFileSync(path.join(dir, artifactName()), tmp)
  fs.renameSync(tmp, dest)
  return dest
}

module.exports = { build, artifactName }

if (require.main === module) {
  try {
    console.error(`built ${path.relative(root, build({ release: !process.argv.includes('--debug') }))}`)
  } catch (e) {
    console.error(e.message)
    process.exit(1)
  }
}
