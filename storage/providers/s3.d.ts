export {
  S3CompatibleProvider,
  AWSS3Provider,
  DigitalOceanSpacesProvider,
  WasabiProvider,
  BackblazeB2Provider,
  CloudflareR2Provider,
} from '../../index'
export type {
  S3Config,
  AWSS3Config,
  DigitalOceanSpacesConfig,
  WasabiConfig,
  BackblazeB2Config,
  CloudflareR2Config,
} from '../../index'
