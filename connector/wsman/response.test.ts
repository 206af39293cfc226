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
