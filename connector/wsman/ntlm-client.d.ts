// Types for @ewsjs/ntlm-client 3 (a CommonJS package without declarations): the three NTLM
// message functions the WS-Management client uses.
declare module '@ewsjs/ntlm-client' {
  export interface Type2Message {
    flags: number;
    encoding: 'ascii' | 'ucs2';
    version: 1 | 2;
    challenge: Buffer;
    targetName: string;
  }
  interface NtlmClient {
    /** Returns `NTLM <base64>`. */
    createType1Message(workstation?: string, target?: string): string;
    /** Takes the base64 token (with or without the `NTLM ` prefix). */
    decodeType2Message(token: string): Type2Message;
    /** Returns `NTLM <base64>`. */
    createType3Message(
      type2: Type2Message,
      username: string,
      password: string,
      workstation?: string,
      target?: string,
    ): string;
  }
  const client: NtlmClient;
  export default client;
}
