'use strict'
// npm runs this on install. A consumer without a prebuilt binary (and every fresh clone) builds the
// addon from source with cargo; a binding that already loads is left alone unless
// CRUNCHYCONE_STORAGE_BUILD_FROM_SOURCE is set.
const { execFileSync } = require('node:child_process')
const path = require('node:path')

const root = path.join(__dirname, '..')
if (!process.env.CRUNCHYCONE_STORAGE_BUILD_FROM_SOURCE) {
  try {
    require(path.join(root, 'native.js'))
    process.exit(0)
  } catch {}
}
// npm puts the `napi` binary of @napi-rs/cli (a dependency) on PATH for lifecycle scripts.
execFileSync('napi', ['build', '--platform', '--release', '--js', 'native.js', '--dts', 'native.d.ts'], {
  cwd: root,
  stdio: 'inherit',
})
