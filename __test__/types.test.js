'use strict'
// index.d.ts declares the original's types: TypeScript written against crunchycone-lib compiles
// unchanged against this package (resolved by name through package.json "exports").

const { it } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

it('a consumer written against the original compiles with tsc --noEmit', () => {
  const tsc = require.resolve('typescript/bin/tsc')
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(__dirname, 'types')], { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stdout + r.stderr)
})

// lib/ calls the addon through the declarations napi-derive generates (native.d.ts, rewritten by
// every build): a native signature that changes under lib/ fails here, not at run time.
it('lib/ type-checks against the native declarations', () => {
  const tsc = require.resolve('typescript/bin/tsc')
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(__dirname, 'types', 'lib.json')], { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stdout + r.stderr)
  const declared = require('node:fs').readFileSync(path.join(__dirname, '..', 'native.d.ts'), 'utf8')
  for (const name of Object.keys(require('../lib/native'))) assert.match(declared, new RegExp(`export (declare (class|function)|type) ${name}\\b`))
})
