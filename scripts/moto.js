'use strict'
// moto, the S3 server the tests and benchmarks run against (pinned; see README "Testing").
// `node scripts/moto.js` installs it into .venv-emu when missing; `start()` runs one on 127.0.0.1.

const { spawn, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const path = require('node:path')

const root = path.join(__dirname, '..')
const venv = path.join(root, '.venv-emu')
const bin = path.join(venv, 'bin', 'moto_server')
const REQUIREMENTS = ['moto[s3]==5.2.5', 'flask', 'flask-cors']

function install() {
  if (fs.existsSync(bin)) return
  const run = (cmd, args) => {
    console.log(`$ ${cmd} ${args.join(' ')}`)
    const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' })
    if (r.status !== 0) throw new Error(`${cmd} failed (exit ${r.status}): moto is needed for the S3 tests`)
  }
  run('python3', ['-m', 'venv', venv])
  run(path.join(venv, 'bin', 'pip'), ['install', '--quiet', ...REQUIREMENTS])
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
    s.on('error', reject)
  })
}

/**
 * Starts moto on a free port and creates `bucket`. Resolves with `{ endpoint, stop() }`.
 */
async function start(bucket = 'test-bucket') {
  install()
  const port = await freePort()
  const child = spawn(bin, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  child.stderr.on('data', (d) => (log = (log + d).slice(-4000)))
  const endpoint = `http://127.0.0.1:${port}`
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve()
      child.once('exit', resolve)
      child.kill()
    })
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`moto exited (${child.exitCode}): ${log}`)
    try {
      if ((await fetch(`${endpoint}/`)).ok) break
    } catch {}
    if (i > 300) {
      await stop()
      throw new Error(`moto did not start: ${log}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  const created = await fetch(`${endpoint}/${bucket}`, { method: 'PUT' })
  if (!created.ok) {
    await stop()
    throw new Error(`Creating bucket ${bucket} failed: ${created.status}`)
  }
  return { endpoint, bucket, stop }
}

module.exports = { install, start }

if (require.main === module) install()
