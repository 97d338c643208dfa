// The public types of crunchycone-storage: each module's declarations sit beside it (lib/**/*.d.ts)
// and are re-exported here, so no export is listed twice.
export * from './lib/types'
export * from './lib/providers/local'
export * from './lib/providers/crunchycone'
export * from './lib/providers/s3'
export * from './lib/providers/gcp'
export * from './lib/providers/azure'
export * from './lib/config'
export * from './lib/utils'
export * from './lib/sync'
export * from './lib/serve'
