import type { ProgramHost } from './program-host.ts';
import { hashString } from './random.ts';

/**
 * Runs a command line the way `cmd.exe /c` would for the few commands tests use: echo,
 * hostname, whoami, ver, ipconfig, exit. Anything else is "not recognized" with exit 9009,
 * cmd.exe's code for a missing program. Resolves with the exit code.
 */
export function runCmd(commandLine: string, host: ProgramHost): number {
  const trimmed = commandLine.trim();
  const [name = '', ...rest] = trimmed.split(/\s+/);
  const args = trimmed.slice(name.length).trim();
  switch (name.toLowerCase()) {
    case 'echo':
      host.out(`${args === '' ? 'ECHO is on.' : args}\r\n`);
      return 0;
    case 'echo.':
      host.out('\r\n');
      return 0;
    case 'hostname':
      host.out(`${host.computerName}\r\n`);
      return 0;
    case 'whoami':
      host.out(`${host.computerName.toLowerCase()}\\${host.userName}\r\n`);
      return 0;
    case 'ver':
      host.out('\r\nMicrosoft Windows [Version 10.0.20348.2849]\r\n');
      return 0;
    case 'ipconfig':
      host.out(
        ipconfig(
          host,
          rest.some((a) => a.toLowerCase() === '/all'),
        ),
      );
      return 0;
    case 'exit':
      return exitCode(rest);
    case 'cmd':
      return runCmd(args.replace(/^\/[cCkK]\s*/, ''), host);
    default:
      host.err(
        `'${name}' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n`,
      );
      return 9009;
  }
}

function exitCode(args: string[]): number {
  const values = args.filter((a) => a.toLowerCase() !== '/b');
  const code = Number.parseInt(values[0] ?? '0', 10);
  return Number.isNaN(code) ? 0 : code;
}

function ipconfig(host: ProgramHost, all: boolean): string {
  const hash = hashString(host.computerName);
  const mac = [0x00, 0x15, 0x5d, (hash >>> 16) & 0xff, (hash >>> 8) & 0xff, hash & 0xff]
    .map((b) => b.toString(16).padStart(2, '0').toUpperCase())
    .join('-');
  const lines = ['', 'Windows IP Configuration', ''];
  if (all) {
    lines.push(`   Host Name . . . . . . . . . . . . : ${host.computerName}`);
    lines.push('   Primary Dns Suffix  . . . . . . . : ', '');
  }
  lines.push('Ethernet adapter Ethernet:', '');
  if (all) lines.push(`   Physical Address. . . . . . . . . : ${mac}`);
  lines.push(`   IPv4 Address. . . . . . . . . . . : ${host.address}`);
  lines.push('   Subnet Mask . . . . . . . . . . . : 255.255.0.0', '');
  return `${lines.join('\r\n')}\r\n`;
}
