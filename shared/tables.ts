/**
 * DynamoDB tables, defined once for CDK (`infra/`) and the embedded stack (`local/`).
 * Every key attribute is a string.
 */
export interface TableIndex {
  indexName: string;
  partitionKey: string;
  sortKey?: string;
}

export interface TableDefinition {
  /** Logical name; the physical name is `${prefix}${name}`. */
  name: string;
  partitionKey: string;
  sortKey?: string;
  indexes: readonly TableIndex[];
  /** Attribute holding an expiry time in epoch seconds, when items expire. */
  ttlAttribute?: string;
}

export const TABLES = {
  operations: {
    name: 'operations',
    partitionKey: 'operationId',
    // Every operation carries listKey = 'operation' so that one index lists them newest first.
    indexes: [{ indexName: 'byCreatedAt', partitionKey: 'listKey', sortKey: 'createdAt' }],
    ttlAttribute: 'expiresAt',
  },
  // Per-batch result items, per-device detail items and dispatch records: shared/result-batches.ts.
  results: {
    name: 'results',
    partitionKey: 'operationId',
    sortKey: 'itemKey',
    indexes: [],
    ttlAttribute: 'expiresAt',
  },
  devices: {
    name: 'devices',
    partitionKey: 'deviceId',
    indexes: [{ indexName: 'bySite', partitionKey: 'siteId', sortKey: 'deviceId' }],
  },
  sites: { name: 'sites', partitionKey: 'siteId', indexes: [] },
  metrics: {
    name: 'metrics',
    partitionKey: 'deviceId',
    sortKey: 'timestamp',
    indexes: [],
    ttlAttribute: 'expiresAt',
  },
} as const satisfies Record<string, TableDefinition>;

export type TableKey = keyof typeof TABLES;

/** The physical table name for a deployment whose names start with `prefix`. */
export function tableName(prefix: string, key: TableKey): string {
  return `${prefix}${TABLES[key].name}`;
}
