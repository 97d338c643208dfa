// Written against the original crunchycone-lib API; only the package name changed.
import { createWriteStream } from 'node:fs'
import { pipeline } from 'node:stream/promises'
import { Transform } from 'node:stream'
import { LocalStorageProvider } from 'crunchycone-storage/storage/providers/local'
import { CrunchyConeProvider } from 'crunchycone-storage/storage/providers/crunchycone'
import type { CrunchyConeConfig, CrunchyConeFileMetadata } from 'crunchycone-storage/storage/providers/crunchycone'
import { S3CompatibleProvider, AWSS3Provider, CloudflareR2Provider, BackblazeB2Provider } from 'crunchycone-storage/storage/providers/s3'
import type { AWSS3Config, DigitalOceanSpacesConfig } from 'crunchycone-storage/storage/providers/s3'
import { GCPStorageProvider } from 'crunchycone-storage/storage/providers/gcp'
import type { GCPStorageConfig } from 'crunchycone-storage/storage/providers/gcp'
import { AzureStorageProvider } from 'crunchycone-storage/storage/providers/azure'
import type { AzureStorageConfig } from 'crunchycone-storage/storage/providers/azure'
import * as storageHelpers from 'crunchycone-storage/storage'
import { getCrunchyConeAPIURL, getCrunchyConeProjectID, hasCrunchyConeAPIKey } from 'crunchycone-storage/auth'
import { syncStorageProviders } from 'crunchycone-storage/storage/sync'
import type { SyncResult, SyncProgress } from 'crunchycone-storage/storage/sync'
import type { StorageProvider as HelperProvider, GCPStorageConfig as HelperGcpConfig } from 'crunchycone-storage/storage'
import { initializeStorageProvider, getStorageProvider, setStorageProvider, WasabiProvider, DigitalOceanSpacesProvider } from 'crunchycone-storage'
import type {
  FileStreamOptions,
  FileStreamResult,
  FileUrlOptions,
  FileVisibilityResult,
  FileVisibilityStatus,
  ListFilesOptions,
  ListFilesResult,
  SearchFilesOptions,
  SearchFilesResult,
  StorageFileInfo,
  StorageProvider,
  StorageProviderType,
  StorageUploadOptions,
  StorageUploadResult,
  S3Config,
  FileValidationOptions,
  FileValidationResult,
  StorageFileInfoExtended,
} from 'crunchycone-storage'

const provider: StorageProvider = new LocalStorageProvider()

async function main(controller: AbortController): Promise<void> {
  const upload: StorageUploadOptions = { external_id: 'ext_1', buffer: Buffer.from('x'), filename: 'a.txt', public: true, metadata: { a: 'b' } }
  const uploaded: StorageUploadResult = await provider.uploadFile(upload)
  const visibility: 'public' | 'private' | 'temporary-public' = uploaded.visibility
  const found: StorageFileInfo | null = await provider.findFileByExternalId(uploaded.external_id)
  const when: Date | undefined = found?.lastModified
  const urlOptions: FileUrlOptions = { disposition: 'inline' }
  const url: string = await provider.getFileUrl(uploaded.key, 3600, urlOptions)

  const listOptions: ListFilesOptions = { prefix: 'files/', sortBy: 'lastModified', sortOrder: 'desc', createdAfter: new Date(0), limit: 10 }
  const listed: ListFilesResult = await provider.listFiles(listOptions)
  const searchOptions: SearchFilesOptions = { query: 'a', searchFields: ['filename', 'key'], onlyPublic: true }
  const searched: SearchFilesResult = await provider.searchFiles(searchOptions)

  const vis: FileVisibilityResult = await provider.setFileVisibility(uploaded.key, 'private')
  const status: FileVisibilityStatus = await provider.getFileVisibilityByExternalId('ext_1')
  const many: FileVisibilityResult[] | undefined = await provider.setMultipleFileVisibility?.([uploaded.key], 'public')

  // The examples of the streaming interface's documentation.
  if (provider.getFileStream) {
    const streamResult = await provider.getFileStream('my-file.pdf')
    await pipeline(streamResult.stream as NodeJS.ReadableStream, createWriteStream('./output.pdf'))
    await streamResult.cleanup?.()
  }
  const options: FileStreamOptions = { start: 0, end: 1024 * 1024 - 1, responseType: 'web', signal: controller.signal, timeout: 30000, includeMetadata: true }
  const ranged: FileStreamResult = await provider.getFileStream!('large-video.mp4', options)
  console.log(`Streaming ${ranged.range!.end - ranged.range!.start + 1} bytes`, ranged.providerSpecific?.signedUrl)
  const byId = await provider.getFileStreamByExternalId!('ext_1')
  let downloaded = 0
  const progress = new Transform({
    transform(chunk, _encoding, callback) {
      downloaded += chunk.length
      console.log(Math.round((downloaded / byId.contentLength!) * 100))
      callback(null, chunk)
    },
  })
  await pipeline(byId.stream as NodeJS.ReadableStream, progress, createWriteStream('./output.file'))

  const config: Partial<CrunchyConeConfig> = { apiUrl: 'http://127.0.0.1:1', projectId: 'p', timeout: 5000 }
  const cc = new CrunchyConeProvider(config)
  cc.setUserId('u1')
  const byFileId: FileVisibilityResult = await cc.updateFileVisibilityById('file_1', 'public')
  const meta: Pick<CrunchyConeFileMetadata, 'upload_status'> = { upload_status: 'completed' }
  const ccProvider: StorageProvider = cc
  console.log(byFileId, meta, ccProvider)

  const local = new LocalStorageProvider()
  const ok: boolean = await local.isAvailable()
  const type: StorageProviderType = 'localstorage'
  const s3: S3Config = { accessKeyId: 'a', secretAccessKey: 'b', region: 'r', bucket: 'b' }
  const validation: FileValidationOptions = { maxSize: 1 }
  const result: FileValidationResult = { valid: true }
  const ext: StorageFileInfoExtended | null = found && { ...found, isPublic: false }
  const bucket: StorageProvider = new S3CompatibleProvider({ ...s3, endpoint: 'http://127.0.0.1:9000', forcePathStyle: true })
  const awsConfig: AWSS3Config = { accessKeyId: 'a', secretAccessKey: 'b', region: 'eu-west-1', bucket: 'b', cloudFrontDomain: 'cdn.example.com' }
  const doConfig: DigitalOceanSpacesConfig = { accessKeyId: 'a', secretAccessKey: 'b', region: 'nyc3', bucket: 'b' }
  const services: S3CompatibleProvider[] = [
    new AWSS3Provider(awsConfig),
    new DigitalOceanSpacesProvider(doConfig),
    new WasabiProvider({ accessKeyId: 'a', secretAccessKey: 'b', region: 'us-east-1', bucket: 'b' }),
    new BackblazeB2Provider({ keyId: 'a', applicationKey: 'b', region: 'us-west-000', bucket: 'b' }),
    new CloudflareR2Provider({ accessKeyId: 'a', secretAccessKey: 'b', accountId: 'acct', bucket: 'b', publicDomain: 'files.example.com' }),
  ]
  const signed: string = await services[0].getFileUrl('k', 60, { disposition: 'attachment' })
  const gcpConfig: GCPStorageConfig = { projectId: 'p', bucket: 'b', keyFilename: '/key.json' }
  const azureConfig: AzureStorageConfig = { accountName: 'a', accountKey: 'k', containerName: 'c' }
  const clouds: StorageProvider[] = [new GCPStorageProvider(gcpConfig), new AzureStorageProvider(azureConfig)]
  const temporary: FileVisibilityResult = await clouds[1].setFileVisibility('k', 'public')
  const expires: Date | undefined = temporary.publicUrlExpiresAt
  initializeStorageProvider()
  const current: StorageProvider = getStorageProvider()
  setStorageProvider(null)
  const viaHelpers: StorageUploadResult = await storageHelpers.uploadFile({ external_id: 'e', buffer: Buffer.from('x') })
  const helperUrl: string = await storageHelpers.getFileUrl(viaHelpers.key, 60, { disposition: 'inline' })
  const types: StorageProviderType[] = await storageHelpers.getAvailableStorageProviders()
  const sameProvider: HelperProvider = storageHelpers.getStorageProvider()
  const helperGcp: HelperGcpConfig = gcpConfig
  const apiUrl: string = getCrunchyConeAPIURL()
  const projectId: string | undefined = getCrunchyConeProjectID()
  const hasKey: boolean = await hasCrunchyConeAPIKey()
  console.log(apiUrl, projectId, hasKey)
  const synced: SyncResult = await syncStorageProviders({
    source: clouds[0],
    destination: clouds[1],
    direction: 'one-way',
    onProgress: (p: SyncProgress) => console.log(p.phase),
  })
  console.log(synced.summary.copied, storageHelpers.formatBytes(1024), storageHelpers.validateFile({ name: 'a', size: 1, type: 't' }).valid)
  console.log(bucket, signed, current, expires, helperUrl, types, sameProvider, helperGcp)
  console.log(visibility, when, url, listed, searched, vis, status, many, ok, type, s3, validation, result, ext)
}

void main(new AbortController())
