export * from '../../lib/providers/azure'
