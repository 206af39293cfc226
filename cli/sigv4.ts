import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Authorizer, OutgoingRequest } from './api-client.ts';

/** AWS credentials as the SDK's providers return them. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

export interface SigV4Options {
  region: string;
  /** Fixed credentials, or a provider such as the AWS default chain (called per request). */
  credentials: AwsCredentials | (() => Promise<AwsCredentials>);
  /** The signing name of API Gateway. Default `execute-api`. */
  service?: string;
  /** The signing time; default now. Tests fix it to get a known signature. */
  clock?: () => Date;
}

/**
 * Signs each request with AWS Signature Version 4, as an HTTP API with IAM authorization
 * requires: the returned headers carry `authorization`, `x-amz-date`, `x-amz-content-sha256`
 * and, for temporary credentials, `x-amz-security-token`.
 */
export function sigV4Authorizer(options: SigV4Options): Authorizer {
  const signer = new SignatureV4({
    region: options.region,
    service: options.service ?? 'execute-api',
    credentials: options.credentials,
    sha256: Sha256,
  });
  return async (request: OutgoingRequest) => {
    const { url } = request;
    const signed = await signer.sign(
      {
        method: request.method,
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port ? Number(url.port) : undefined,
        path: url.pathname,
        query: queryOf(url),
        // The host header is signed; fetch sends the same one.
        headers: { ...request.headers, host: url.host },
        body: request.body,
      },
      { signingDate: options.clock?.() ?? new Date() },
    );
    const { host: _host, ...headers } = signed.headers;
    return headers;
  };
}

function queryOf(url: URL): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(key);
    query[key] = values.length === 1 ? (values[0] ?? '') : values;
  }
  return query;
}
