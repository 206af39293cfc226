export * from './batch.ts';
export * from './device.ts';
export * from './operation.ts';
export * from './result.ts';
export * from './site.ts';
