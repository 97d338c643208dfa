'use strict'
// Names of this machine's native binary: the platform key napi-rs uses (`linux-x64-gnu`), the
// prebuilt package that carries it and the file a source build writes. Shared by the loader
// (lib/native.js) and the install, build and package scripts.

const { readFileSync } = require('node:fs')

const NAME = 'crunchycone-storage'

/** glibc or musl, for Linux keys. Node's report names the glibc it runs on; musl has none. */
function linuxLibc() {
  try {
    if (readFileSync('/usr/bin/ldd', 'utf8').includes('musl')) return 'musl'
  } catch {}
  const report = process.report?.getReport?.()
  return report?.header?.glibcVersionRuntime ? 'gnu' : 'musl'
}

/** `linux-x64-gnu`, `linux-arm64-musl`, `darwin-arm64`, `win32-x64-msvc`, … */
function platformKey(platform = process.platform, arch = process.arch) {
  if (platform === 'linux') return `linux-${arch}-${linuxLibc()}`
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

const packageName = (key = platformKey()) => `${NAME}-${key}`
const binaryName = (key = platformKey()) => `${NAME}.${key}.node`

module.exports = { NAME, platformKey, packageName, binaryName }
