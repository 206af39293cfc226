import { readFileSync } from 'node:fs';
import { type Site, SiteConfigFile } from '../shared/schemas/site.ts';

/** Reads and validates a sites configuration file (the seed's JSON format). */
export function loadSites(path: string): Site[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read the sites configuration ${path}`, { cause: error });
  }
  const parsed = SiteConfigFile.safeParse(json);
  if (!parsed.success) {
    throw new Error(`invalid sites configuration ${path}: ${parsed.error.message}`);
  }
  return parsed.data.sites;
}
