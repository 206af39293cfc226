import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NS } from '../../shared/wsman.ts';
import { encodePowerShell, planInvocation } from './command-line.ts';
import { decodeWsmanResponse, WsmanProtocolError } from './index.ts';

const receive = (soap: string, shell: string, extra = '') =>
  `<${soap}:Envelope xmlns:${soap}="${NS.soap}" xmlns:${shell}="${NS.shell}">\n  <${soap}:Body>\n` +
  `    <${shell}:ReceiveResponse>${extra}<${shell}:Stream Name="stdout" CommandId="C">4pyT</${shell}:Stream>\n` +
  `      <${shell}:CommandState CommandId="C" State="${NS.shell}/CommandState/Done">` +
  `<${shell}:ExitCode> 2 </${shell}:ExitCode></${shell}:CommandState>\n` +
  `    </${shell}:ReceiveResponse>\n  </${soap}:Body>\n</${soap}:Envelope>`;

describe('decodeWsmanResponse', () => {
  it('reads elements by namespace URI whatever their prefixes', () => {
    const prefix = fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/);
    fc.assert(
      fc.property(prefix, prefix, (soap, shell) => {
        fc.pre(soap !== shell && !soap.startsWith('xml') && !shell.startsWith('xml'));
        expect(decodeWsmanResponse(receive(soap, shell))).toMatchObject({
          streams: { stdout: '✓' },
          exitCode: 2,
        });
      }),
    );
  });

  it('ignores unknown elements and whitespace', () => {
    const decoded = decodeWsmanResponse(
      receive('s', 'rsp', '<x:Extra xmlns:x="urn:other">junk</x:Extra>\n'),
    );

    expect(decoded).toMatchObject({ streams: { stdout: '✓' }, commandState: 'Done' });
  });

  it('ignores a same-named element in another namespace', () => {
    const decoded = decodeWsmanResponse(
      receive('s', 'rsp', '<o:Stream xmlns:o="urn:other" Name="stdout">aGFja2Vk</o:Stream>'),
    );

    expect(decoded).toMatchObject({ streams: { stdout: '✓' } });
  });

  it('reads the MSFT_WmiError fault shape', () => {
    const xml =
      `<s:Envelope xmlns:s="${NS.soap}"><s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value></s:Code>` +
      '<s:Reason><s:Text>failed</s:Text></s:Reason><s:Detail>' +
      `<p:MSFT_WmiError xmlns:p="${NS.wmiError}"><p:error_Code>2150859046</p:error_Code>` +
      '<p:Message>The WinRM client cannot process the request.</p:Message></p:MSFT_WmiError>' +
      '</s:Detail></s:Fault></s:Body></s:Envelope>';

    expect(decodeWsmanResponse(xml)).toMatchObject({
      fault: { code: 2150859046, message: 'The WinRM client cannot process the request.' },
    });
  });

  const done = (stream: string, exit: string, state = `${NS.shell}/CommandState/Done`) =>
    `<s:Envelope xmlns:s="${NS.soap}" xmlns:rsp="${NS.shell}"><s:Body><rsp:ReceiveResponse>` +
    `<rsp:Stream Name="stdout" CommandId="C">${stream}</rsp:Stream>` +
    `<rsp:CommandState CommandId="C" State="${state}">${exit}</rsp:CommandState>` +
    '</rsp:ReceiveResponse></s:Body></s:Envelope>';
  const exit = (code: string) => done('', `<rsp:ExitCode>${code}</rsp:ExitCode>`);

  it('rejects a stream that is not base64, naming the stream', () => {
    for (const bad of ['@@@@', 'aGk', 'aGk=x', 'a===']) {
      expect(() => decodeWsmanResponse(done(bad, ''))).toThrow(
        /rsp:Stream Name="stdout" is not valid base64/,
      );
    }
    expect(decodeWsmanResponse(done(' aGk\n = ', ''))).toMatchObject({ streams: { stdout: 'hi' } });
  });

  it('rejects an exit code that is not a 32-bit integer', () => {
    for (const bad of ['abc', '', '1.5', '0x1', '99999999999999999999999', '4294967296']) {
      expect(() => decodeWsmanResponse(exit(bad)), bad).toThrow(WsmanProtocolError);
    }
    expect(() => decodeWsmanResponse(exit('-2147483649'))).toThrow(/rsp:ExitCode "-2147483649"/);
  });

  it('gives exit codes as signed 32-bit integers', () => {
    const code = (text: string) =>
      (decodeWsmanResponse(exit(text)) as { exitCode: unknown }).exitCode;

    expect(code('4294967295')).toBe(-1);
    expect(code('3221225786')).toBe(-1073741510);
    expect(code('-2147483648')).toBe(-2147483648);
    expect(code(' 2147483647 ')).toBe(2147483647);
    expect(code('-0')).toBe(0);
  });

  it('rejects a command state WS-Management does not define', () => {
    const unknown = done('', '<rsp:ExitCode>0</rsp:ExitCode>', `${NS.shell}/CommandState/Finished`);

    expect(() => decodeWsmanResponse(unknown)).toThrow(
      /unknown State ".*\/CommandState\/Finished"/,
    );
    expect(() => decodeWsmanResponse(done('', '', ''))).toThrow(WsmanProtocolError);
  });

  it('throws only WsmanProtocolError on hostile input', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          decodeWsmanResponse(text);
        } catch (error) {
          expect(error).toBeInstanceOf(WsmanProtocolError);
        }
      }),
    );
  });
});

describe('planInvocation', () => {
  it('round-trips any script through -EncodedCommand', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (script) => {
        const plan = planInvocation(script);
        expect(plan.stdin).toBeUndefined();
        expect(Buffer.from(plan.args.at(-1) ?? '', 'base64').toString('utf16le')).toBe(script);
      }),
    );
  });

  it('switches to stdin when the command line would pass 8,191 characters', () => {
    const longest = 'x'.repeat(3_000);
    const line = `powershell -NoProfile -NonInteractive -EncodedCommand ${encodePowerShell(longest)}`;

    expect(line.length).toBeLessThanOrEqual(8_191);
    expect(planInvocation(longest).stdin).toBeUndefined();
    expect(planInvocation(`${longest}${'x'.repeat(100)}`).stdin).toBeDefined();
  });
});
