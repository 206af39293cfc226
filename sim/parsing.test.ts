import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACTION, NS } from '../shared/wsman.ts';
import { decodeInput, encodeOutput } from './codepage.ts';
import { fleetCsv } from './fleet.ts';
import { parsePowerShellArgs, splitCommandLine } from './program.ts';
import { allocateAddresses, parseSubnet, SubnetError } from './subnet.ts';
import { parseDurationMs, parseWsmanRequest } from './wsman-request.ts';
import { MalformedXmlError, parseXml } from './xml.ts';

describe('parseWsmanRequest', () => {
  it('reads a request by namespace whatever prefixes it uses, default namespaces included', () => {
    const text =
      `<Envelope xmlns="${NS.soap}"><Header><act:Action xmlns:act="${NS.addressing}">${ACTION.receive}</act:Action>` +
      `<q:SelectorSet xmlns:q="${NS.wsman}"><q:Selector Name="ShellId">S-1</q:Selector></q:SelectorSet>` +
      `<q:OperationTimeout xmlns:q="${NS.wsman}">PT1.500S</q:OperationTimeout></Header>` +
      `<Body><Receive xmlns="${NS.shell}"><DesiredStream CommandId="C-1">stdout</DesiredStream></Receive></Body></Envelope>`;

    const request = parseWsmanRequest(text);

    expect(request.action).toBe(ACTION.receive);
    expect(request.selectors.get('ShellId')).toBe('S-1');
    expect(request.operationTimeoutMs).toBe(1500);
    expect([request.body?.ns, request.body?.local]).toEqual([NS.shell, 'Receive']);
  });

  it('rejects an element whose prefix is not declared, and a non-SOAP root', () => {
    expect(() => parseWsmanRequest('<s:Envelope><s:Body/></s:Envelope>')).toThrow(
      MalformedXmlError,
    );
    expect(() => parseWsmanRequest('<Envelope xmlns="urn:other"/>')).toThrow(MalformedXmlError);
  });

  it('throws only MalformedXmlError on hostile input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        try {
          parseWsmanRequest(text);
        } catch (error) {
          expect(error).toBeInstanceOf(MalformedXmlError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it.each(['<A/', '<a:b', '<?xml', '<a><b></a>'])(
    'throws MalformedXmlError on the truncated document %j',
    (text) => {
      expect(() => parseWsmanRequest(text)).toThrow(MalformedXmlError);
    },
  );

  it('keeps text with entities and attributes resolved by namespace', () => {
    const root = parseXml(
      `<a:x xmlns:a="urn:a" xmlns:b="urn:b" b:k="1" k="2">1 &lt; 2 &amp; 3</a:x>`,
    );

    expect(root.text).toBe('1 < 2 & 3');
    expect(root.attrs.get('{urn:b}k')).toBe('1');
    expect(root.attrs.get('k')).toBe('2');
  });
});

describe('parseDurationMs', () => {
  it('reads xs:duration values and falls back to 60 s', () => {
    expect(parseDurationMs('PT20S')).toBe(20_000);
    expect(parseDurationMs('PT60.000S')).toBe(60_000);
    expect(parseDurationMs('PT1M30S')).toBe(90_000);
    expect(parseDurationMs('P0DT0H0M2S')).toBe(2_000);
    expect(parseDurationMs('')).toBe(60_000);
    expect(parseDurationMs('PT')).toBe(60_000);
  });
});

describe('command lines', () => {
  it('splits at spaces outside double quotes', () => {
    expect(splitCommandLine('powershell -Command "a b" c')).toEqual([
      'powershell',
      '-Command',
      'a b',
      'c',
    ]);
  });

  it('reads powershell.exe parameters case-insensitively and abbreviated', () => {
    const encoded = Buffer.from("Write-Output 'ü'", 'utf16le').toString('base64');

    expect(
      parsePowerShellArgs(['-NoProfile', '-NonInteractive', '-EncodedCommand', encoded]),
    ).toEqual({
      script: "Write-Output 'ü'",
    });
    expect(
      parsePowerShellArgs(['-nop', '-ExecutionPolicy', 'Bypass', '-enc', encoded]).script,
    ).toBe("Write-Output 'ü'");
    expect(parsePowerShellArgs(['-NoProfile', '-Command', '-'])).toEqual({});
    expect(parsePowerShellArgs(['-Command', 'Write-Output', '1']).script).toBe('Write-Output 1');
  });

  it('recognises an encoded bootstrap that reads stdin, to be evaluated once stdin ends', () => {
    const bootstrap = '[Console]::In.ReadToEnd() | Invoke-Expression';
    const encoded = Buffer.from(bootstrap, 'utf16le').toString('base64');

    expect(parsePowerShellArgs(['-EncodedCommand', encoded])).toEqual({
      stdinBootstrap: bootstrap,
    });
  });
});

describe('code pages', () => {
  it('round-trips any text through UTF-8 (65001)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        expect(decodeInput(encodeOutput(text, 65001), 65001)).toBe(text);
      }),
    );
  });

  it('maps code page 437 characters and replaces the rest with ?', () => {
    expect([...encodeOutput('aéÇ░😀€', 437)]).toEqual([0x61, 0x82, 0x80, 0xb0, 0x3f, 0x3f]);
    expect(decodeInput(Buffer.from([0x61, 0x82, 0x80]), 437)).toBe('aéÇ');
  });
});

describe('subnets', () => {
  it('allocates in order, skipping .0 and .255 host parts and taken addresses', () => {
    const addresses = allocateAddresses(parseSubnet('127.11.0.0/16'), 256, new Set(['127.11.0.2']));

    expect(addresses.slice(0, 2)).toEqual(['127.11.0.1', '127.11.0.3']);
    expect(addresses).not.toContain('127.11.0.255');
    expect(addresses).not.toContain('127.11.1.0');
    expect(addresses.at(-1)).toBe('127.11.1.3');
  });

  it('refuses a non-loopback subnet and one too small for the fleet', () => {
    expect(() => parseSubnet('10.0.0.0/8')).toThrow(SubnetError);
    expect(() => parseSubnet('127.1.2.3')).toThrow(SubnetError);
    expect(() => allocateAddresses(parseSubnet('127.11.9.0/30'), 3, new Set())).toThrow(
      SubnetError,
    );
  });
});

describe('fleetCsv', () => {
  it('writes a header and one line per device, quoting where needed', () => {
    const csv = fleetCsv([
      { computerName: 'WS-0001', address: '127.20.0.1', port: 5985, siteId: 'site-alpha' },
      { computerName: 'ODD,NAME', address: '127.20.0.2', port: 5985 },
    ]);

    expect(csv).toBe(
      'computerName,address,siteId\nWS-0001,127.20.0.1,site-alpha\n"ODD,NAME",127.20.0.2,\n',
    );
  });
});
