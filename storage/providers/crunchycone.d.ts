export * from '../../lib/providers/crunchycone'
