import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ACTION } from '../../shared/wsman.ts';
import type { Transport } from '../transport.ts';
import {
  createWsmanTransport,
  WsmanAuthError,
  WsmanTlsError,
  type WsmanTransportOptions,
} from './index.ts';
import {
  cleanupReply,
  type FakeHost,
  type HostHandler,
  type HostRequest,
  reply,
  startFakeHost,
} from './testing/fake-host.ts';

const ADDRESS = '127.15.2.1';
/** The NT hash (MD4 of UTF-16LE) of the password "password", a published test value. */
const NT_HASH_OF_PASSWORD = Buffer.from('8846F7EAEE8FB117AD06BDD830B7586C', 'hex');
const CERT_AUTH = 'http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual';

let dir: string;
let host: FakeHost | undefined;
let transport: Transport | undefined;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsman-tls-'));
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=winfleet test CA',
  );
  writeFileSync(join(dir, 'server.ext'), `subjectAltName=IP:${ADDRESS}\n`);
  for (const name of ['server', 'client']) {
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${name}`,
    );
    const ext = name === 'server' ? ['-extfile', 'server.ext'] : [];
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      ...ext,
    );
  }
});

afterEach(async () => {
  await transport?.close();
  await host?.close();
  transport = undefined;
  host = undefined;
});

const file = (name: string) => join(dir, name);

function shellFlow(request: HostRequest) {
  if (request.action === ACTION.create) return reply.created('S1');
  if (request.action === ACTION.command) return reply.command('C1');
  if (request.action === ACTION.receive) {
    return reply.output([{ name: 'stdout', bytes: Buffer.from('secure'), end: true }], 'Done', 0);
  }
  return cleanupReply(request.action) ?? reply.fault(1, 'w:ActionNotSupported', 'unexpected');
}

async function run(
  handler: HostHandler,
  options: Omit<WsmanTransportOptions, 'https'>,
  requestCert = false,
) {
  host = await startFakeHost(ADDRESS, handler, {
    key: readFileSync(file('server.key')),
    cert: readFileSync(file('server.pem')),
    ca: readFileSync(file('ca.pem')),
    requestCert,
    rejectUnauthorized: requestCert,
  });
  transport = createWsmanTransport({ ...options, https: true });
  const device = { deviceId: 'ws01', computerName: 'WS01', address: ADDRESS, port: host.port };
  return transport.run(device, 'x', { timeoutMs: 10_000 });
}

const basic = { type: 'basic', user: 'winfleet', password: 'winfleet' } as const;

describe('wsman over HTTPS', () => {
  it('refuses a certificate it cannot verify with WsmanTlsError', async () => {
    const error = await run(shellFlow, { auth: basic }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(WsmanTlsError);
    expect(error).toMatchObject({ kind: 'tls', retryable: false });
  });

  it('trusts the device certificate through a CA bundle', async () => {
    const outcome = await run(shellFlow, { auth: basic, caPath: file('ca.pem') });

    expect(outcome.stdout).toBe('secure');
  });

  it('authenticates with a client certificate and the mutual-auth header', async () => {
    const handler: HostHandler = (request) =>
      request.headers.authorization === CERT_AUTH ? shellFlow(request) : { status: 401 };

    const outcome = await run(
      handler,
      {
        auth: { type: 'certificate', certPath: file('client.pem'), keyPath: file('client.key') },
        caPath: file('ca.pem'),
      },
      true,
    );

    expect(outcome.stdout).toBe('secure');
  });
});

describe('wsman NTLM', () => {
  it('authenticates each connection with an NTLMv2 handshake the host verifies', async () => {
    const ntlm = ntlmHost('password');

    const outcome = await run(ntlm.handler, {
      auth: { type: 'ntlm', user: 'CORP\\winfleet', password: 'password' },
      caPath: file('ca.pem'),
    });

    expect(outcome.stdout).toBe('secure');
    expect(ntlm.users).toContain('CORP\\winfleet');
  });

  it('raises WsmanAuthError when the host rejects the NTLM response', async () => {
    const ntlm = ntlmHost('password');

    const error = await run(ntlm.handler, {
      auth: { type: 'ntlm', user: 'winfleet', password: 'wrong', domain: 'CORP' },
      caPath: file('ca.pem'),
    }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(WsmanAuthError);
  });
});

/**
 * A host side of NTLM written for the test from the NTLMv2 definition (MS-NLMP): it sends a
 * challenge and checks NTProofStr = HMAC-MD5(NTOWFv2, challenge || blob).
 */
function ntlmHost(password: string) {
  if (password !== 'password') throw new Error('only the published hash is known');
  const challenge = Buffer.from('0123456789abcdef', 'hex');
  const authenticated = new Set<number>();
  const users: string[] = [];
  const handler: HostHandler = (request) => {
    if (authenticated.has(request.connection)) return shellFlow(request);
    const token = /^Negotiate (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (!token) return { status: 401, headers: { 'www-authenticate': 'Negotiate' } };
    const message = Buffer.from(token, 'base64');
    const type = message.readUInt32LE(8);
    if (type === 1) {
      return {
        status: 401,
        headers: { 'www-authenticate': `Negotiate ${type2(challenge).toString('base64')}` },
      };
    }
    const parsed = parseType3(message);
    if (!verifyNtlmV2(parsed, challenge, NT_HASH_OF_PASSWORD)) return { status: 401 };
    authenticated.add(request.connection);
    users.push(`${parsed.domain}\\${parsed.user}`);
    return shellFlow(request);
  };
  return { handler, users };
}

function type2(challenge: Buffer): Buffer {
  const target = Buffer.from('CORP', 'utf16le');
  const info = Buffer.concat([avPair(2, target), avPair(0, Buffer.alloc(0))]);
  const header = Buffer.alloc(48);
  header.write('NTLMSSP\0', 0, 'ascii');
  header.writeUInt32LE(2, 8);
  writeBuffer(header, 12, target.length, 48);
  // UNICODE | NTLM | EXTENDED_SESSIONSECURITY | TARGET_INFO
  header.writeUInt32LE(0x1 | 0x200 | 0x80000 | 0x800000, 20);
  challenge.copy(header, 24);
  writeBuffer(header, 40, info.length, 48 + target.length);
  return Buffer.concat([header, target, info]);
}

function avPair(id: number, value: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16LE(id, 0);
  head.writeUInt16LE(value.length, 2);
  return Buffer.concat([head, value]);
}

function writeBuffer(buf: Buffer, at: number, length: number, offset: number): void {
  buf.writeUInt16LE(length, at);
  buf.writeUInt16LE(length, at + 2);
  buf.writeUInt32LE(offset, at + 4);
}

function readField(message: Buffer, at: number): Buffer {
  const length = message.readUInt16LE(at);
  const offset = message.readUInt32LE(at + 4);
  return message.subarray(offset, offset + length);
}

function parseType3(message: Buffer) {
  return {
    ntResponse: readField(message, 20),
    domain: readField(message, 28).toString('utf16le'),
    user: readField(message, 36).toString('utf16le'),
  };
}

function verifyNtlmV2(
  t3: ReturnType<typeof parseType3>,
  challenge: Buffer,
  ntHash: Buffer,
): boolean {
  const ntowfv2 = createHmac('md5', ntHash)
    .update(Buffer.from(t3.user.toUpperCase() + t3.domain, 'utf16le'))
    .digest();
  const proof = t3.ntResponse.subarray(0, 16);
  const blob = t3.ntResponse.subarray(16);
  const expected = createHmac('md5', ntowfv2)
    .update(Buffer.concat([challenge, blob]))
    .digest();
  return blob.length > 0 && expected.equals(proof);
}
