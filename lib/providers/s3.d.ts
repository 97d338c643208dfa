// S3CompatibleProvider and the five services built on it (lib/providers/s3.js), with their
// configurations.
import type { TransferConfig, ProviderMethods, S3Config } from '../types'

/**
 * Any S3-compatible bucket. Without `forcePathStyle: false` requests and URLs are path-style
 * (`{endpoint}/{bucket}/{key}`), as the original's client signs them.
 */
export interface S3CompatibleProvider extends ProviderMethods {}
export declare class S3CompatibleProvider {
  constructor(config: S3Config)
}

export interface AWSS3Config extends TransferConfig {
  accessKeyId: string
  secretAccessKey: string
  region: string
  bucket: string
  cloudFrontDomain?: string
}
export declare class AWSS3Provider extends S3CompatibleProvider {
  constructor(config: AWSS3Config)
}

export interface DigitalOceanSpacesConfig extends TransferConfig {
  accessKeyId: string
  secretAccessKey: string
  region: string
  bucket: string
  cdnEndpoint?: string
}
export declare class DigitalOceanSpacesProvider extends S3CompatibleProvider {
  constructor(config: DigitalOceanSpacesConfig)
}

export interface WasabiConfig extends TransferConfig {
  accessKeyId: string
  secretAccessKey: string
  region: string
  bucket: string
}
export declare class WasabiProvider extends S3CompatibleProvider {
  constructor(config: WasabiConfig)
}

export interface BackblazeB2Config extends TransferConfig {
  keyId: string
  applicationKey: string
  region: string
  bucket: string
}
export declare class BackblazeB2Provider extends S3CompatibleProvider {
  constructor(config: BackblazeB2Config)
}

export interface CloudflareR2Config extends TransferConfig {
  accessKeyId: string
  secretAccessKey: string
  accountId: string
  bucket: string
  publicDomain?: string
}
export declare class CloudflareR2Provider extends S3CompatibleProvider {
  constructor(config: CloudflareR2Config)
}
