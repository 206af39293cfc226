import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors.ts';
import { MAX_IMPORT_ROWS, parseDeviceCsv } from './device-csv.ts';

/** As Windows PowerShell 5.1 writes `Get-ADComputer ... | Export-Csv` (BOM with -Encoding UTF8). */
const AD_EXPORT = [
  '\uFEFF#TYPE Microsoft.ActiveDirectory.Management.ADComputer',
  '"Description","DistinguishedName","DNSHostName","Enabled","Name","ObjectClass","ObjectGUID","SamAccountName","SID","UserPrincipalName"',
  '"Front desk, lobby","CN=WS-0001,OU=Workstations,DC=corp,DC=example","WS-0001.corp.example","True","WS-0001","computer","0f3c5e1a-1111-4c1e-9a53-000000000001","WS-0001$","S-1-5-21-1-1-1-1101",',
  '"","CN=WS-0002,OU=Workstations,DC=corp,DC=example","WS-0002.corp.example","False","WS-0002","computer","0f3c5e1a-1111-4c1e-9a53-000000000002","WS-0002$","S-1-5-21-1-1-1-1102",',
  '"","CN=SRV-01,OU=Servers,DC=corp,DC=example","","True","SRV-01","computer","0f3c5e1a-1111-4c1e-9a53-000000000003","SRV-01$","S-1-5-21-1-1-1-1103",',
].join('\r\n');

describe('parseDeviceCsv', () => {
  it('reads an Active Directory export, skipping disabled accounts and the #TYPE line', () => {
    const csv = parseDeviceCsv(AD_EXPORT.replace(',"",', ',"10.0.0.3",'), { siteId: 'hq' });

    expect(csv.problems).toEqual([]);
    expect(csv.skipped).toBe(1);
    expect(csv.devices[0]).toEqual({
      deviceId: 'ws-0001',
      computerName: 'WS-0001',
      address: 'WS-0001.corp.example',
      port: 5985,
      siteId: 'hq',
      tags: {},
    });
  });

  it('reports a row without an address by the line it is on', () => {
    const csv = parseDeviceCsv(AD_EXPORT, { siteId: 'hq' });

    expect(csv.problems).toEqual([{ line: 5, reasons: [expect.stringMatching(/^address: /)] }]);
  });

  it('reads the simulated fleet format with tags from a tags cell and tag: columns', () => {
    const text =
      'computerName,address,siteId,tags,tag:Ring\n' +
      'S01-WS0001,127.60.0.1,site-01,os=win11;floor=2,canary\n' +
      'S01-WS0002,127.60.0.2,site-01,,\n';

    const csv = parseDeviceCsv(text);

    expect(csv.devices.map((d) => [d.deviceId, d.siteId, d.tags])).toEqual([
      ['s01-ws0001', 'site-01', { os: 'win11', floor: '2', Ring: 'canary' }],
      ['s01-ws0002', 'site-01', {}],
    ]);
  });

  it('reports every bad row with all its reasons', () => {
    const text =
      'computerName,address,siteId,port,tags\n' +
      'GOOD-1,10.0.0.1,hq,5986,\n' +
      'bad name!,10.0.0.2,HQ Site,99999,oops\n' +
      'GOOD-1,10.0.0.3,hq,,\n';

    const csv = parseDeviceCsv(text);

    expect(csv.devices).toHaveLength(1);
    expect(csv.problems.map((p) => p.line)).toEqual([3, 4]);
    const reasons = csv.problems[0]?.reasons.join(' | ') ?? '';
    expect(reasons).toMatch(/tags: "oops" is not key=value/);
    expect(reasons).toMatch(/deviceId: /);
    expect(reasons).toMatch(/port: /);
    expect(reasons).toMatch(/siteId: /);
    expect(csv.problems[1]?.reasons).toEqual(['device good-1 is also on line 2']);
  });

  it('refuses a file without a computer name column', () => {
    expect(() => parseDeviceCsv('address,siteId\n10.0.0.1,hq\n')).toThrow(
      expect.objectContaining({ statusCode: 400, code: 'MissingColumn' }),
    );
  });

  it('refuses malformed CSV with the line of the fault', () => {
    expect(() => parseDeviceCsv('name,address\n"WS-1,10.0.0.1\n')).toThrow(
      expect.objectContaining({ statusCode: 400, code: 'MalformedCsv' }),
    );
  });

  it('refuses more rows than one import takes', () => {
    const rows = Array.from({ length: MAX_IMPORT_ROWS + 1 }, (_, i) => `W${i},10.0.${i % 250}.1`);

    expect(() => parseDeviceCsv(`name,address\n${rows.join('\n')}`)).toThrow(
      expect.objectContaining({ statusCode: 413 }),
    );
  });

  it('answers arbitrary text with devices, row problems or a 4xx error, never a fault', () => {
    const cell = fc.oneof(
      fc.string(),
      fc.constantFrom('"', '""', ',', '\n', '\r\n', '#TYPE x', '\uFEFF', '=', ';', 'tag:'),
    );
    const line = fc.array(cell, { maxLength: 6 }).map((cells) => cells.join(','));
    const header = fc.subarray(['computerName', 'name', 'address', 'siteId', 'tags', 'port']);
    const text = fc.oneof(
      fc.string(),
      fc
        .tuple(header, fc.array(line, { maxLength: 5 }))
        .map(([h, rows]) => [h.join(','), ...rows].join('\n')),
    );

    fc.assert(
      fc.property(text, (input) => {
        try {
          const csv = parseDeviceCsv(input, { siteId: 'hq' });
          expect(csv.devices.length + csv.problems.length + csv.skipped).toBeGreaterThan(0);
        } catch (error) {
          expect(error).toBeInstanceOf(ApiError);
          expect((error as ApiError).statusCode).toBeLessThan(500);
        }
      }),
      { numRuns: 500 },
    );
  });
});
