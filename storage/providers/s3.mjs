// The CommonJS module's exports (Node reads their names from it), and the module itself as the default.
export * from './s3.js'
export { default } from './s3.js'
