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
