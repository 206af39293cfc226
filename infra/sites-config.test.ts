import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadSites } from './sites-config.ts';
import { writeTempFile } from './test-support.ts';

describe('loadSites', () => {
  it("loads the seed's sample sites with the schema's defaults", () => {
    const sites = loadSites(fileURLToPath(new URL('sites.json', import.meta.url)));
    expect(sites.map((s) => s.siteId)).toEqual(['site-alpha', 'site-beta']);
    expect(sites[0]).toMatchObject({ relayAgent: null, directConnect: true, throttleLimit: 50 });
    expect(sites[1]).toMatchObject({ relayAgent: 'relay-beta.domain.com', syncInterval: 300 });
  });

  it('rejects an unknown key, naming the file', () => {
    const path = writeTempFile(
      'sites.json',
      JSON.stringify({ sites: [{ siteId: 'a', name: 'A', colour: 'red' }] }),
    );
    expect(() => loadSites(path)).toThrow(
      new RegExp(`invalid sites configuration ${path}.*colour`, 's'),
    );
  });

  it('rejects a file that is not JSON', () => {
    const path = writeTempFile('sites.json', '{ sites: ');
    expect(() => loadSites(path)).toThrow(/cannot read the sites configuration/);
  });
});
