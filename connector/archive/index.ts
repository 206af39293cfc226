export { Archive, type ExpiredRows, type ResultKey } from './archive.ts';
export { type ColdArchiveFile, coldArchiveFiles, coldArchivePath } from './cold.ts';
export {
  ArchiveMaintenance,
  type ArchiveMaintenanceOptions,
  type MaintenanceReport,
  type RunningMaintenance,
  startArchiveMaintenance,
} from './maintenance.ts';
export { buildQuery, queryArchive, type ResultQuery } from './query.ts';
export type { ArchivedResult } from './rows.ts';
export { ArchiveWriter, type ArchiveWriterOptions } from './writer.ts';
