export * from '../../lib/providers/local'
