// The public types of crunchycone-storage: each module's declarations sit beside it (lib/**/*.d.ts)
// and are re-exported here, so no export is listed twice.
export * from './lib/types'
export * from './lib/providers'
export * from './lib/config'
export * from './lib/utils'
export * from './lib/sync'
export * from './lib/serve'
export * from './lib/auth'
