// The CommonJS module's exports (Node reads their names from it), and the module itself as the default.
export * from './azure.js'
export { default } from './azure.js'
