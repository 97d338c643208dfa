// @ts-check
'use strict'
// CrunchyConeProvider over the native store (src/providers/crunchycone). Configuration comes from
// the config object, then process.env (read at construction), then crunchycone.toml.

const { Store } = require('../native')
const { NativeProvider, setVisibility } = require('../provider')
const { configOf, transferOf } = require('../options')

const CRUNCHYCONE_CONFIG = { apiUrl: 'string', apiKey: 'string', projectId: 'string', timeout: 'number', userId: 'string' }

class CrunchyConeProvider extends NativeProvider {
  #userId

  constructor(options = {}) {
    const config = configOf('CrunchyCone', options, CRUNCHYCONE_CONFIG)
    const store = Store.crunchycone({
      apiUrl: config.apiUrl,
      apiKey: config.apiKey,
      projectId: config.projectId,
      timeout: config.timeout,
      envApiUrl: process.env.CRUNCHYCONE_API_URL,
      envApiKey: process.env.CRUNCHYCONE_API_KEY,
      envProjectId: process.env.CRUNCHYCONE_PROJECT_ID,
      cwd: process.cwd(),
    })
    // The original reports an empty query as '' here (and as given elsewhere).
    super(store, { searchQuery: '', ...transferOf('CrunchyCone', options) })
    this.#userId = config.userId
  }

  /** The original's: kept for compatibility, unused by the API calls. */
  setUserId(userId) {
    this.#userId = userId
  }

  /** The original's `updateFileVisibilityById`: by the API's file id, without a lookup. */
  async updateFileVisibilityById(fileId, visibility) {
    const [result] = await setVisibility(this, 'fileId', [fileId], visibility)
    return result
  }
}

module.exports = { CrunchyConeProvider }
