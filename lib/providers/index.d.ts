// Every provider class (lib/providers/index.js); a backend of this package's own declares its
// class and its configuration's type here.
export * from './local'
export * from './crunchycone'
export * from './s3'
export * from './gcp'
export * from './azure'
