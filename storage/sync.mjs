import lib from './sync.js'

export const { syncStorageProviders, verifySyncedFile, getSyncStatus } = lib
