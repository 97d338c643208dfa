'use strict'
// The original's `./auth` helpers: the API key from the environment or the OS keychain (through an
// optional `keytar`, here a stand-in module on NODE_PATH), and the API URL and project id from the
// environment or `crunchycone.toml`. Each case runs in a child process with its own cwd and env.

const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { freshRoot } = require('./helpers/local')

const AUTH = path.join(__dirname, '..', 'auth')

/** Runs `expr` (awaited) against the auth module in `cwd` with only `env`'s CRUNCHYCONE_* set. */
function run(expr, { cwd = freshRoot('auth'), env = {} } = {}) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CRUNCHYCONE_') && k !== 'NODE_PATH'))
  const script = `const a = require(${JSON.stringify(AUTH)});
    Promise.resolve().then(() => ${expr}).then((v) => console.log(JSON.stringify({ v })), (e) => console.log(JSON.stringify({ e: e.message })))`
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd, env: { ...clean, ...env }, encoding: 'utf8' }))
}

/** A project directory with a crunchycone.toml (and package.json, where the search stops). */
function project(toml) {
  const dir = freshRoot('auth-project')
  fs.writeFileSync(path.join(dir, 'package.json'), '{}')
  fs.writeFileSync(path.join(dir, 'crunchycone.toml'), toml)
  fs.mkdirSync(path.join(dir, 'src'))
  return dir
}

describe('auth: API URL and project id', () => {
  it('takes the environment, then crunchycone.toml (from a subdirectory too), then the defaults', () => {
    const dir = project('# settings\nenvironment = "dev"\n[project]\nid = \'proj_1\'\n')
    const both = "[a.getCrunchyConeAPIURL(), a.getCrunchyConeProjectID() ?? '(undefined)']"
    assert.deepEqual(run(both, { cwd: path.join(dir, 'src') }).v, ['https://api.crunchycone.dev', 'proj_1'])
    assert.deepEqual(run(both, { cwd: dir, env: { CRUNCHYCONE_API_URL: 'http://127.0.0.1:1', CRUNCHYCONE_PROJECT_ID: 'env_p' } }).v, ['http://127.0.0.1:1', 'env_p'])
    assert.deepEqual(run(both, { cwd: project('environment = "prod"\n') }).v, ['https://api.crunchycone.com', '(undefined)'])
    assert.deepEqual(run(both).v, ['https://api.crunchycone.com', '(undefined)'])
  })
})

describe('auth: API key', () => {
  it('reads CRUNCHYCONE_API_KEY first, trimmed', () => {
    assert.deepEqual(run('a.getCrunchyConeAPIKeyWithFallback()', { env: { CRUNCHYCONE_API_KEY: '  key_1  ' } }), { v: 'key_1' })
    assert.deepEqual(run('a.hasCrunchyConeAPIKey()', { env: { CRUNCHYCONE_API_KEY: 'k' } }), { v: true })
  })

  it("says what is missing without keytar, in the original's words", () => {
    assert.deepEqual(run('a.getCrunchyConeAPIKeyWithFallback()'), {
      e: 'CrunchyCone API key not found in environment variable CRUNCHYCONE_API_KEY. Keychain access is not available (keytar not installed). Please set CRUNCHYCONE_API_KEY environment variable.',
    })
    assert.deepEqual(run('a.getCrunchyConeAPIKey()'), { e: 'keytar is not available. This functionality requires keytar to be installed.' })
    assert.deepEqual(run('a.hasCrunchyConeAPIKey()'), { v: false })
  })

  it('reads the keychain through keytar when it is installed', () => {
    const modules = freshRoot('keytar')
    fs.mkdirSync(path.join(modules, 'keytar'))
    fs.writeFileSync(
      path.join(modules, 'keytar', 'index.js'),
      `exports.getPassword = async (service, account) => service === 'crunchycone-cli' && account === 'default' ? process.env.STORED || null : null`,
    )
    const env = { NODE_PATH: modules }
    assert.deepEqual(run('a.getCrunchyConeAPIKeyWithFallback()', { env: { ...env, STORED: 'from-keychain' } }), { v: 'from-keychain' })
    assert.deepEqual(run('a.getCrunchyConeAPIKey()', { env }), { e: 'CrunchyCone API key not found. Please run: crunchycone auth login' })
    assert.deepEqual(run('a.getCrunchyConeAPIKeyWithFallback()', { env }), {
      e: 'CrunchyCone API key not found. Set CRUNCHYCONE_API_KEY environment variable or run: crunchycone auth login',
    })
  })

  it('is importable from crunchycone-storage/auth, CommonJS and ESM', () => {
    const names = Object.keys(require('crunchycone-storage/auth')).sort()
    assert.deepEqual(names, ['getCrunchyConeAPIKey', 'getCrunchyConeAPIKeyWithFallback', 'getCrunchyConeAPIURL', 'getCrunchyConeProjectID', 'hasCrunchyConeAPIKey'])
    // As with the original (CommonJS), the default import is the module.
    const script = "import * as a from 'crunchycone-storage/auth'; import d from 'crunchycone-storage/auth'; console.log(Object.keys(a).filter((k) => k !== 'default').sort().join(), d === a.default && typeof d.getCrunchyConeAPIURL)"
    const esm = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: __dirname, encoding: 'utf8' })
    assert.equal(esm.trim(), `${names.join()} function`)
    // The original's root entry re-exports them too.
    const root = require('crunchycone-storage')
    for (const name of names) assert.equal(root[name], require('crunchycone-storage/auth')[name], name)
  })
})
