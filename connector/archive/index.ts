export { Archive, type ResultKey } from './archive.ts';
export type { ArchivedResult } from './rows.ts';
export { ArchiveWriter, type ArchiveWriterOptions } from './writer.ts';
