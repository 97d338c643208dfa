export * from '../lib/auth'
