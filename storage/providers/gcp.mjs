import lib from './gcp.js'

export const { GCPStorageProvider } = lib
