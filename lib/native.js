// @ts-check
'use strict'
// Loads the native addon. In order: the prebuilt platform package (an optional dependency,
// `crunchycone-storage-linux-x64-gnu` and the like), then a binary built from source into this
// package's folder (`crunchycone-storage.linux-x64-gnu.node`). If neither loads, one error says
// which platform was looked for, what was expected and the command that builds it.
// CRUNCHYCONE_STORAGE_NATIVE_PATH names a binary to load instead (a build of one's own).

const path = require('node:path')
const { NAME, platformKey, packageName, binaryName } = require('./platform')

const root = path.join(__dirname, '..')
const { version } = require('../package.json')

function load() {
  if (process.env.CRUNCHYCONE_STORAGE_NATIVE_PATH) return require(path.resolve(process.env.CRUNCHYCONE_STORAGE_NATIVE_PATH))
  const key = platformKey()
  const pkg = packageName(key)
  const tried = []
  try {
    const found = require(`${pkg}/package.json`).version
    if (found === version) return require(pkg)
    tried.push(`${pkg}@${found} is installed, but ${NAME}@${version} needs ${pkg}@${version}`)
  } catch (e) {
    tried.push(e.code === 'MODULE_NOT_FOUND' && !e.message.includes('.node') ? `${pkg} is not installed` : `${pkg}: ${e.message}`)
  }
  const local = path.join(root, binaryName(key))
  try {
    return require(local)
  } catch (e) {
    if (e.code !== 'MODULE_NOT_FOUND') tried.push(`${binaryName(key)}: ${e.message.split('\n')[0]}`)
  }
  const error = /** @type {Error & { code?: string }} */ (new Error(
    `${NAME}: no native binary for ${key} (${tried.join('; ')}). ` +
      `Install the optional dependency ${pkg}@${version} (do not omit optional dependencies), ` +
      `or build from source with Rust 1.88+ and a C compiler: npm rebuild ${NAME} --ignore-scripts=false`,
  ))
  error.code = 'ERR_CRUNCHYCONE_STORAGE_NATIVE'
  throw error
}

/** @type {typeof import('../native')} */
module.exports = load()
