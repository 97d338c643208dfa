import lib from './index.js'

export const { getCrunchyConeAPIKey, hasCrunchyConeAPIKey, getCrunchyConeAPIKeyWithFallback, getCrunchyConeAPIURL, getCrunchyConeProjectID } = lib
