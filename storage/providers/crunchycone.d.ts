export { CrunchyConeProvider } from '../../index'
export type { CrunchyConeConfig, CrunchyConeFileDescriptor, CrunchyConeFileMetadata } from '../../index'
