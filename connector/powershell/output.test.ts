import { describe, expect, it } from 'vitest';
import { PowerShellRemotingError, PowerShellTransportError } from './errors.ts';
import { parseInvocationOutput } from './output.ts';
import { RESULT_MARKER } from './script.ts';

function marked(envelope: unknown, before = ''): { stdout: string; stderr: string } {
  return { stdout: `${before}${RESULT_MARKER}${JSON.stringify(envelope)}\r\n`, stderr: '' };
}

function failure(error: Record<string, unknown>): unknown {
  try {
    parseInvocationOutput(marked({ ok: false, error: { type: 'X', ...error } }), {
      deviceId: 'ws01',
    });
  } catch (caught) {
    return caught;
  }
  throw new Error('expected a failure');
}

describe('parseInvocationOutput', () => {
  it('reads the outcome from the marked line, ignoring what the host printed before it', () => {
    const output = marked(
      { ok: true, stdout: 'héllo 🚀\r\n', stderr: 'oops\r\n', exitCode: 3 },
      'WARNING: something the profile printed\r\n',
    );

    expect(parseInvocationOutput(output)).toEqual({
      state: 'Completed',
      exitCode: 3,
      stdout: 'héllo 🚀\r\n',
      stderr: 'oops\r\n',
    });
  });

  it('reports a missing exit code as unknown, never 0, and null streams as empty', () => {
    const outcome = parseInvocationOutput(
      marked({ ok: true, stdout: null, stderr: null, exitCode: null }),
    );

    expect(outcome).toEqual({ state: 'Completed', exitCode: undefined, stdout: '', stderr: '' });
  });

  it.each([
    [{ errorCode: 5, message: 'Access is denied.' }, 'auth'],
    [{ errorCode: -2144108250, message: 'Connecting to remote server failed' }, 'unreachable'],
    [{ errorCode: 53, message: 'The network path was not found.' }, 'unreachable'],
    [{ errorCode: 12175, message: 'The server certificate on the destination is invalid' }, 'tls'],
    [{ message: 'The WS-Management service cannot complete the operation: timed out' }, 'timeout'],
    [{ errorId: 'PSSessionStateBroken', message: 'The session state is Broken.' }, 'failed'],
  ])('classes remoting failure %o as %s', (error, kind) => {
    const caught = failure(error);

    expect(caught).toBeInstanceOf(PowerShellRemotingError);
    expect(caught).toMatchObject({
      kind,
      deviceId: 'ws01',
      message: expect.stringContaining(error.message),
    });
  });

  it('raises a protocol error when no result line arrives, quoting what did', () => {
    const caught = (() => {
      try {
        return parseInvocationOutput({
          stdout: '',
          stderr: 'The term New-PSSession is not recognized',
        });
      } catch (error) {
        return error;
      }
    })();

    expect(caught).toBeInstanceOf(PowerShellTransportError);
    expect(caught).toMatchObject({
      kind: 'protocol',
      message: expect.stringContaining('not recognized'),
    });
  });

  it('raises a protocol error for a result line that is not the envelope', () => {
    const bad = [
      { stdout: `${RESULT_MARKER}{not json`, stderr: '' },
      marked({ ok: true, stdout: 1, stderr: '', exitCode: 0 }),
      marked({ ok: 'yes' }),
    ];

    for (const output of bad) {
      expect(() => parseInvocationOutput(output)).toThrow(
        expect.objectContaining({ kind: 'protocol' }),
      );
    }
  });
});
