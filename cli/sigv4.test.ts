import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sigV4Authorizer } from './sigv4.ts';

const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'session-token-example',
};
const CLOCK = () => new Date('2025-03-04T05:06:07Z');

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const hmac = (key: string | Buffer, text: string) =>
  createHmac('sha256', key).update(text, 'utf8').digest();

/** SigV4 written out from the published algorithm, independently of @smithy/signature-v4. */
function expectedSignature(
  request: { method: string; url: URL; body: string },
  headers: Record<string, string>,
  signedHeaders: string[],
): string {
  const query = [...request.url.searchParams.entries()]
    .map(([k, v]) => [encodeURIComponent(k), encodeURIComponent(v)])
    .sort(([a], [b]) => (a ?? '').localeCompare(b ?? ''))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalHeaders = signedHeaders.map((name) => `${name}:${headers[name]?.trim()}\n`);
  const canonicalRequest = [
    request.method,
    request.url.pathname,
    query,
    canonicalHeaders.join(''),
    signedHeaders.join(';'),
    sha256(request.body),
  ].join('\n');
  const scope = '20250304/eu-west-1/execute-api/aws4_request';
  const stringToSign = ['AWS4-HMAC-SHA256', '20250304T050607Z', scope, sha256(canonicalRequest)];
  let key: Buffer = hmac(`AWS4${CREDENTIALS.secretAccessKey}`, '20250304');
  for (const part of ['eu-west-1', 'execute-api', 'aws4_request']) key = hmac(key, part);
  return createHmac('sha256', key).update(stringToSign.join('\n'), 'utf8').digest('hex');
}

describe('sigV4Authorizer', () => {
  const url = new URL(
    'https://abc123.execute-api.eu-west-1.amazonaws.com/operations/op-0123456789/results?status=Failed&limit=50',
  );
  const request = {
    method: 'POST',
    url,
    headers: { 'content-type': 'text/csv; charset=utf-8' },
    body: 'computerName,address,siteId\nWS-1,10.0.0.1,hq\n',
  };

  it('signs with the credential scope, the signed headers and the session token', async () => {
    const authorize = sigV4Authorizer({
      region: 'eu-west-1',
      credentials: CREDENTIALS,
      clock: CLOCK,
    });

    const headers = await authorize(request);

    expect(headers['x-amz-date']).toBe('20250304T050607Z');
    expect(headers['x-amz-security-token']).toBe('session-token-example');
    expect(headers['x-amz-content-sha256']).toBe(sha256(request.body));
    expect(headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(headers.host).toBeUndefined();
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20250304\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
    );
  });

  it('produces the signature the SigV4 algorithm gives for the same request', async () => {
    const authorize = sigV4Authorizer({
      region: 'eu-west-1',
      credentials: async () => CREDENTIALS,
      clock: CLOCK,
    });

    const headers = await authorize(request);

    const signedHeaders = /SignedHeaders=([^,]+)/.exec(headers.authorization ?? '')?.[1] ?? '';
    const signature = /Signature=([0-9a-f]+)$/.exec(headers.authorization ?? '')?.[1];
    const all = { ...headers, host: url.host };
    expect(signature).toBe(expectedSignature(request, all, signedHeaders.split(';')));
  });

  it('gives another signature for another body', async () => {
    const authorize = sigV4Authorizer({
      region: 'eu-west-1',
      credentials: CREDENTIALS,
      clock: CLOCK,
    });

    const a = await authorize(request);
    const b = await authorize({ ...request, body: `${request.body} ` });

    expect(a.authorization).not.toBe(b.authorization);
  });
});
