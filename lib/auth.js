'use strict'
// The original's `./auth` helpers: where the CrunchyCone API key, URL and project id come
// from. `crunchycone.toml` is read by the native side (src/providers/crunchycone/config.rs), with the
// rules the provider itself uses; the OS keychain through `keytar` when the application has it
// installed (it is optional, as in the original).

const { crunchyconeToml } = require('./native')

const KEYCHAIN = ['crunchycone-cli', 'default']
const envValue = (name) => process.env[name]?.trim() || undefined

function loadKeytar() {
  try {
    return require('keytar')
  } catch {
    return null
  }
}

/** The API key from the OS keychain (service `crunchycone-cli`, account `default`). */
async function getCrunchyConeAPIKey() {
  const keytar = loadKeytar()
  if (!keytar) throw new Error('keytar is not available. This functionality requires keytar to be installed.')
  let key
  try {
    key = await keytar.getPassword(...KEYCHAIN)
  } catch (e) {
    throw new Error(`Failed to read API key from keychain: ${e?.message ?? e}`)
  }
  if (!key) throw new Error('CrunchyCone API key not found. Please run: crunchycone auth login')
  return key
}

/** `CRUNCHYCONE_API_KEY`, else the keychain. */
async function getCrunchyConeAPIKeyWithFallback() {
  const fromEnv = envValue('CRUNCHYCONE_API_KEY')
  if (fromEnv) return fromEnv
  if (!loadKeytar()) {
    throw new Error(
      'CrunchyCone API key not found in environment variable CRUNCHYCONE_API_KEY. Keychain access is not available (keytar not installed). Please set CRUNCHYCONE_API_KEY environment variable.',
    )
  }
  try {
    return await getCrunchyConeAPIKey()
  } catch {
    throw new Error('CrunchyCone API key not found. Set CRUNCHYCONE_API_KEY environment variable or run: crunchycone auth login')
  }
}

async function hasCrunchyConeAPIKey() {
  try {
    return Boolean(await getCrunchyConeAPIKeyWithFallback())
  } catch {
    return false
  }
}

/** `CRUNCHYCONE_API_URL`, else the one `crunchycone.toml`'s `environment` names, else production. */
function getCrunchyConeAPIURL() {
  return process.env.CRUNCHYCONE_API_URL || crunchyconeToml(process.cwd()).apiUrl || 'https://api.crunchycone.com'
}

/** `CRUNCHYCONE_PROJECT_ID`, else `crunchycone.toml`'s `[project] id`, else undefined. */
function getCrunchyConeProjectID() {
  return process.env.CRUNCHYCONE_PROJECT_ID || crunchyconeToml(process.cwd()).projectId || undefined
}

module.exports = {
  getCrunchyConeAPIKey,
  hasCrunchyConeAPIKey,
  getCrunchyConeAPIKeyWithFallback,
  getCrunchyConeAPIURL,
  getCrunchyConeProjectID,
}
