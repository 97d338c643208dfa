import lib from './s3.js'

export const {
  S3CompatibleProvider,
  AWSS3Provider,
  DigitalOceanSpacesProvider,
  WasabiProvider,
  BackblazeB2Provider,
  CloudflareR2Provider,
} = lib
