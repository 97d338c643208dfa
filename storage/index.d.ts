// crunchycone-lib's `./storage` subpath (also `./services/storage`): the module-level provider and
// its helpers, the validation and key utilities, sync, and the shared types.
export * from '../lib/types'
export * from '../lib/config'
export * from '../lib/utils'
export * from '../lib/sync'
// The providers' types, their configurations among them: type-only, as `./storage` exports no
// provider class at run time.
export type * from '../lib/providers'
