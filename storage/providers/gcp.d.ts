export * from '../../lib/providers/gcp'
