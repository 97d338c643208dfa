'use strict'
// index.d.ts declares the original's types: TypeScript written against crunchycone-lib compiles
// unchanged against this package (resolved by name through package.json "exports").

const { it } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

/** A program over `files` (path → text, not on disk) and the real files they import. */
function virtualProgram(ts, files, options) {
  const host = ts.createCompilerHost(options)
  const { getSourceFile, fileExists, readFile } = host
  host.getSourceFile = (f, v) => (files.has(f) ? ts.createSourceFile(f, files.get(f), v) : getSourceFile.call(host, f, v))
  host.fileExists = (f) => files.has(f) || fileExists.call(host, f)
  host.readFile = (f) => files.get(f) ?? readFile.call(host, f)
  return ts.createProgram([...files.keys()], options, host)
}

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

// Each entry point lists no names of its own: its ESM file and its declarations re-export the
// CommonJS modules' (and the modules' .d.ts). What they expose must still agree, name for name:
// every name require() gives is importable as a value in ESM and in TypeScript, and TypeScript
// declares no other value.
it('every entry point exposes the same names to require, import and TypeScript', async () => {
  const ts = require('typescript')
  const pkg = require('../package.json')
  const root = path.join(__dirname, '..')
  const entries = Object.entries(pkg.exports).filter(([s]) => s !== './package.json')
  const options = { strict: true, noEmit: true, module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16, types: ['node'] }
  // Files that use names as values; `compile` gives each file's errors.
  const compile = (files) => {
    const program = virtualProgram(ts, files, options)
    return { program, errors: (f) => ts.getPreEmitDiagnostics(program, program.getSourceFile(f)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')) }
  }
  const uses = new Map()
  for (const [subpath, e] of entries) {
    const cjs = require(path.join(root, e.require))
    const esm = await import(path.join(root, e.import))
    const names = Object.keys(cjs).sort()
    assert.ok(names.length > 0, subpath)
    assert.deepEqual(Object.keys(esm).filter((n) => n !== 'default').sort(), names, `${subpath}: ESM names`)
    assert.equal(esm.default, cjs, `${subpath}: ESM default`)
    const spec = path.join(root, e.types).replace(/\.d\.ts$/, '')
    uses.set(path.join(root, `__uses${uses.size}.ts`), { subpath, spec, names, text: `import { ${names.join(', ')} } from '${spec}'\nexport const values = [${names.join(', ')}]\n` })
  }
  const all = compile(new Map([...uses].map(([f, u]) => [f, u.text])))
  const extra = new Map()
  for (const [file, u] of uses) {
    assert.deepEqual(all.errors(file), [], `${u.subpath}: a name require() gives is not declared as a value`)
    // Declared values beyond those must be type-only (using one as a value fails to compile).
    const checker = all.program.getTypeChecker()
    const declared = checker.getExportsOfModule(checker.getSymbolAtLocation(all.program.getSourceFile(u.spec + '.d.ts')))
    for (const s of declared) {
      if (u.names.includes(s.name) || !((s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s).flags & ts.SymbolFlags.Value)) continue
      extra.set(path.join(root, `__extra${extra.size}.ts`), { subpath: u.subpath, name: s.name, text: `import { ${s.name} } from '${u.spec}'\nexport const value = ${s.name}\n` })
    }
  }
  const checked = compile(new Map([...extra].map(([f, x]) => [f, x.text])))
  for (const [file, x] of extra) assert.notDeepEqual(checked.errors(file), [], `${x.subpath}: ${x.name} is declared as a value but not exported`)
})

// The README's TypeScript examples, each as written, compiled under --strict as an ES module (they
// use top-level await). What an example takes from its surroundings (a provider, `fs`, Express's
// `app`) is declared around it, only where the example does not declare it itself.
it("the README's TypeScript examples compile under --strict", () => {
  const ts = require('typescript')
  const fs = require('node:fs')
  const root = path.join(__dirname, '..')
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8')
  const blocks = [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1])
  assert.ok(blocks.length >= 8, 'the README has its examples')
  const context = {
    fs: "import * as fs from 'node:fs'",
    createWriteStream: "import { createWriteStream } from 'node:fs'",
    pipeline: "import { pipeline } from 'node:stream/promises'",
    LocalStorageProvider: "import { LocalStorageProvider } from 'crunchycone-storage'",
    provider: "declare const provider: import('crunchycone-storage').LocalStorageProvider",
    accessKeyId: 'declare const accessKeyId: string',
    secretAccessKey: 'declare const secretAccessKey: string',
    accountKey: 'declare const accountKey: string',
    app: "declare const app: { get(path: string, handler: (req: { params: { id: string } }, res: import('node:http').ServerResponse) => unknown): void }",
    processStream: "declare function processStream(stream: import('crunchycone-storage').FileStreamResult['stream']): Promise<void>",
  }
  const declares = (code, name) => new RegExp(`import[^;\\n]*\\b${name}\\b[^;\\n]*from|(const|let|function) ${name}\\b`).test(code.replace(/\/\/.*$/gm, ''))
  const files = new Map(
    blocks.map((code, i) => {
      const uses = Object.keys(context).filter((name) => new RegExp(`\\b${name}\\b`).test(code.replace(/\/\/.*$/gm, '')) && !declares(code, name))
      return [path.join(__dirname, 'types', `readme-${i + 1}.mts`), `${uses.map((n) => context[n]).join('\n')}\n${code}\nexport {}\n`]
    }),
  )
  const options = { strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16, types: ['node'] }
  const program = virtualProgram(ts, files, options)
  const errors = ts.getPreEmitDiagnostics(program).map((d) => `${d.file ? path.basename(d.file.fileName) : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`)
  assert.deepEqual(errors, [])
})
