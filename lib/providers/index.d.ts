// Every provider class (lib/providers/index.js); a backend of this package's own declares its
// class and its configuration's type here.
export * from './local'
export * from './crunchycone'
export * from './s3'
export * from './gcp'
export * from './azure'
/**
 * Sets the process-wide cap on the part requests of parallel reads in flight, across every stream
 * of every provider (default 64), so many concurrent streams do not multiply the connections.
 */
export declare function setParallelConnectionLimit(limit: number): void
