import ntlmClient from '@ewsjs/ntlm-client';

/**
 * NTLM tokens for WinRM's `Negotiate` scheme. Windows accepts a raw NTLMSSP token under
 * `Negotiate` (SPNEGO is optional for the initiator), which is what WinRM's listener offers.
 */
export const NTLM_SCHEME = 'Negotiate';

/** The negotiate (type 1) token, base64. */
export function negotiateToken(): string {
  return stripScheme(ntlmClient.createType1Message());
}

/**
 * The authenticate (type 3) token for the server's challenge header, base64. Throws when the
 * header carries no challenge.
 */
export function authenticateToken(
  wwwAuthenticate: string | string[] | undefined,
  credentials: { user: string; password: string; domain?: string },
): string {
  const challenge = challengeFrom(wwwAuthenticate);
  if (!challenge) throw new Error('401 without an NTLM challenge in WWW-Authenticate');
  const type2 = ntlmClient.decodeType2Message(challenge);
  const { user, domain } = splitUser(credentials.user, credentials.domain);
  return stripScheme(
    ntlmClient.createType3Message(type2, user, credentials.password, undefined, domain),
  );
}

/** The base64 challenge of a `Negotiate <token>` or `NTLM <token>` header value. */
export function challengeFrom(header: string | string[] | undefined): string | undefined {
  const values = Array.isArray(header) ? header : header ? header.split(/,\s*(?=[A-Za-z]+\s)/) : [];
  for (const value of values) {
    const match = /^(?:Negotiate|NTLM)\s+([A-Za-z0-9+/=]+)/.exec(value.trim());
    if (match?.[1]) return match[1];
  }
  return undefined;
}

/** `DOMAIN\user` or `user@domain` into its parts; an explicit domain wins. */
function splitUser(
  user: string,
  domain: string | undefined,
): { user: string; domain: string | undefined } {
  const backslash = user.indexOf('\\');
  if (backslash > 0)
    return { user: user.slice(backslash + 1), domain: domain ?? user.slice(0, backslash) };
  return { user, domain };
}

function stripScheme(message: string): string {
  return message.replace(/^NTLM\s+/, '');
}
