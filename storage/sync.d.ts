export * from '../lib/sync'
