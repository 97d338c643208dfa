// The CommonJS module's exports (Node reads their names from it), and the module itself as the default.
export * from './gcp.js'
export { default } from './gcp.js'
