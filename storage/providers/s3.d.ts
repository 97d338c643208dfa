export * from '../../lib/providers/s3'
