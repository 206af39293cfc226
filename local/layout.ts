import { join } from 'node:path';

/** Where the embedded stack keeps its files under the data folder (DESIGN.md contract 2). */
export function stackPaths(dataDir: string) {
  return {
    dataDir,
    apiToken: join(dataDir, 'api-token'),
    /** The API's base URL, for the CLI to find a stack started with another --port. */
    apiUrl: join(dataDir, 'api-url'),
    /** The pid of the stack holding the folder. */
    stackPid: join(dataDir, 'stack.pid'),
    dynamoDb: join(dataDir, 'dynamodb'),
    logs: join(dataDir, 'logs'),
    sitesConfig: join(dataDir, 'sites.json'),
    fleetCsv: join(dataDir, 'fleet.csv'),
    site: (siteId: string) => ({
      dir: join(dataDir, siteId),
      connectorConfig: join(dataDir, siteId, 'connector.json'),
      pid: join(dataDir, siteId, 'connector.pid'),
      archive: join(dataDir, siteId, 'archive.db'),
    }),
  };
}

export type StackPaths = ReturnType<typeof stackPaths>;

/** The simulated site ids: site-01, site-02, ... */
export function simulatedSiteId(index: number): string {
  return `site-${String(index + 1).padStart(2, '0')}`;
}

/** Each simulated site gets its own /16 of loopback addresses, 127.<base>.0.0/16 upwards. */
export function simulatedSubnet(index: number, base = 20): string {
  return `127.${base + index}.0.0/16`;
}
