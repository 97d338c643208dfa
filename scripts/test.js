'use strict'
// `npm test`: the Rust unit tests, then every node:test suite in __test__.
const { spawnSync } = require('node:child_process')
const path = require('node:path')
const fs = require('node:fs')

const root = path.join(__dirname, '..')
function run(cmd, args, opts = {}) {
  console.log(`$ ${cmd} ${args.join(' ')}`)
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts })
  if (r.status !== 0) process.exit(r.status ?? 1)
}

run('cargo', ['test', '--quiet'])
require('./emulators').install() // moto and fake-gcs-server (Azurite is an npm dev dependency)
const suites = fs
  .readdirSync(path.join(root, '__test__'))
  .filter((f) => f.endsWith('.test.js'))
  .map((f) => path.join('__test__', f))
// A hung test fails with its name after 5 minutes (the longest test takes about a minute); tests
// that set their own `timeout` keep it.
run(process.execPath, ['--expose-gc', '--test', '--test-concurrency=1', '--test-timeout=300000', ...suites.concat(process.argv.slice(2))])
