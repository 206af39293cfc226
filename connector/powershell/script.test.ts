import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  base64Expression,
  invocationCommand,
  newSessionExpression,
  quoteLiteral,
  RESULT_MARKER,
  type SessionSettings,
} from './script.ts';

/** Reads a PowerShell single-quoted literal back (each quote character doubled inside). */
function readLiteral(literal: string): string {
  const quotes = /['\u2018\u2019\u201a\u201b]/;
  expect(quotes.test(literal[0] ?? '')).toBe(true);
  let value = '';
  for (let i = 1; i < literal.length; i++) {
    const char = literal[i] as string;
    if (!quotes.test(char)) {
      value += char;
      continue;
    }
    if (!quotes.test(literal[i + 1] ?? '')) {
      expect(i).toBe(literal.length - 1);
      return value;
    }
    value += char;
    i++;
  }
  throw new Error(`unterminated literal ${literal}`);
}

const basic: SessionSettings = {
  auth: { type: 'basic', user: 'ops', password: 'pw' },
  https: false,
  skipCertificateChecks: false,
  operationTimeoutMs: 60_000,
};
const target = { key: '10.0.0.5:5985', address: '10.0.0.5', port: 5985 };

describe('quoteLiteral', () => {
  it('round-trips any single-line text, typographic quotes included', () => {
    const text = fc
      .string({ unit: 'grapheme' })
      .map((s) => s.replace(/[\r\n\u0085\u2028\u2029\0]/g, ''));
    fc.assert(
      fc.property(fc.oneof(text, fc.constantFrom("'", '‘’‚‛', "a'b'';$x`\"")), (value) => {
        expect(readLiteral(quoteLiteral(value))).toBe(value);
      }),
    );
  });

  it('refuses line breaks, which would end the command sent to the process', () => {
    expect(() => quoteLiteral('host\r\nRemove-Item C:\\')).toThrow(RangeError);
    expect(() => quoteLiteral('a\u2028b')).toThrow(RangeError);
  });
});

describe('base64Expression', () => {
  it('carries any text as base64 of its UTF-8 bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (value) => {
        const base64 = /FromBase64String\('([A-Za-z0-9+/=]*)'\)/.exec(base64Expression(value))?.[1];
        expect(Buffer.from(base64 ?? '', 'base64').toString('utf8')).toBe(value);
      }),
    );
  });
});

describe('newSessionExpression', () => {
  it('writes New-PSSession with the credential, authentication and options', () => {
    expect(newSessionExpression(target, basic)).toBe(
      "New-PSSession -ComputerName '10.0.0.5' -Port 5985 " +
        "-Credential (New-Object Management.Automation.PSCredential('ops', (ConvertTo-SecureString " +
        "([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('cHc='))) -AsPlainText -Force))) " +
        '-Authentication Basic -SessionOption (New-PSSessionOption -OperationTimeout 60000)',
    );
  });

  it('uses the service account, TLS and skipped checks when asked', () => {
    const settings: SessionSettings = {
      ...basic,
      auth: { type: 'default' },
      https: true,
      skipCertificateChecks: true,
    };

    expect(newSessionExpression({ ...target, port: 5986 }, settings)).toBe(
      "New-PSSession -ComputerName '10.0.0.5' -Port 5986 -UseSSL " +
        '-SessionOption (New-PSSessionOption -OperationTimeout 60000 -SkipCACheck -SkipCNCheck)',
    );
  });

  it('keeps hostile device names and credentials inside literals', () => {
    const name = "evil'; Remove-Item -Recurse C:\\ ; '";
    const settings: SessionSettings = {
      ...basic,
      auth: { type: 'negotiate', user: "DOM\\o'brien", password: 'p\'w"$(calc)`\n' },
    };

    const text = newSessionExpression({ ...target, address: name }, settings);

    expect(text).toContain(`-ComputerName ${quoteLiteral(name)} `);
    expect(readLiteral(quoteLiteral(name))).toBe(name);
    expect(text).toContain("PSCredential('DOM\\o''brien', ");
    expect(text).not.toContain('calc');
    expect(text).toContain('-Authentication Negotiate');
  });

  it('refuses a port that is not a TCP port', () => {
    expect(() => newSessionExpression({ ...target, port: 0 }, basic)).toThrow(RangeError);
  });
});

describe('invocationCommand', () => {
  it('is one line that carries the script only as base64 and prints the marked result', () => {
    const script = "Write-Output 'x'\n'; exit 0 #\n\"$(Remove-Item C:\\)\" — 日本 🚀";

    const command = invocationCommand({ target, settings: basic, script });

    expect(command).not.toMatch(/[\r\n]/);
    expect(command).not.toContain('Remove-Item C:');
    expect(command).toContain(base64Expression(script));
    expect(command).toContain("$k = '10.0.0.5:5985';");
    expect(command).toContain('Invoke-Command -Session $s -ArgumentList ');
    expect(
      command.endsWith(
        `'${RESULT_MARKER}' + (ConvertTo-Json -InputObject $j -Compress -Depth 4) }`,
      ),
    ).toBe(true);
  });

  it('closes evicted sessions before the run', () => {
    const command = invocationCommand({
      target,
      settings: basic,
      script: 'x',
      evictKeys: ["o'ld:5985"],
    });

    expect(command).toContain(
      "if ($global:winfleetSessions['o''ld:5985']) { Remove-PSSession -Session $global:winfleetSessions['o''ld:5985'] -ErrorAction SilentlyContinue; $global:winfleetSessions.Remove('o''ld:5985') };",
    );
    expect(command.indexOf('Remove(')).toBeLessThan(command.indexOf('Invoke-Command'));
  });
});
