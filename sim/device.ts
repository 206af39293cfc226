import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../shared/logger.ts';
import { ACTION, CMD_SHELL_RESOURCE_URI, COMMAND_STATE, NS, SIGNAL } from '../shared/wsman.ts';
import { decodeInput, OEM_US_CODE_PAGE } from './codepage.ts';
import { type ReceiveBatch, SimCommand } from './command.ts';
import {
  actionNotSupported,
  COMMAND_NOT_FOUND,
  FILE_NOT_FOUND,
  invalidRequest,
  OPERATION_QUOTA,
  shellNotFound,
  shellQuota,
  TIMED_OUT,
} from './faults.ts';
import { isExecutable, runProgram } from './program.ts';
import type { ProgramHost } from './program-host.ts';
import { hashString, type Random, seededRandom } from './random.ts';
import { SimShell } from './shell.ts';
import type { StatsTracker } from './stats.ts';
import type { DeviceFaults, SimDeviceSpec } from './types.ts';
import { parseDurationMs, type WsmanRequest } from './wsman-request.ts';
import { envelope, type FaultSpec, faultEnvelope } from './wsman-response.ts';
import { child, children, escapeXml } from './xml.ts';

/** Settings every device of a fleet shares. */
export interface DeviceSettings {
  port: number;
  user: string;
  maxShellsPerUser: number;
  maxCommandsPerShell: number;
  idleShellTimeoutMs: number;
  seed: number;
  stats: StatsTracker;
  logger?: Logger;
}

/** An HTTP answer: status and SOAP body, or null when the client went away. */
export interface Reply {
  status: number;
  body: string;
}

/** Who is asking: the authenticated user, the peer address, and the request's lifetime. */
export interface RequestContext {
  user: string;
  clientIp: string;
  signal: AbortSignal;
}

// STATUS_CONTROL_C_EXIT, the exit code of a console process stopped by ctrl_c.
const CTRL_C_EXIT_CODE = -1073741510;

/**
 * One simulated Windows device: its WinRS shells and commands. State is created on first use,
 * so a fleet of thousands of idle devices costs little.
 */
export class DeviceService {
  readonly computerName: string;
  readonly faults: DeviceFaults;
  private shells: Map<string, SimShell> | undefined;
  private readonly random: Random;
  private serviceStates: Map<string, string> | undefined;

  constructor(
    private readonly spec: SimDeviceSpec,
    readonly address: string,
    private readonly settings: DeviceSettings,
  ) {
    this.computerName = spec.computerName;
    this.faults = spec.faults ?? {};
    this.random = seededRandom(settings.seed ^ hashString(spec.computerName));
  }

  /** Answers one parsed WS-Management request. */
  async handle(request: WsmanRequest, context: RequestContext): Promise<Reply | null> {
    this.settings.stats.requestReceived(request.action);
    switch (request.action) {
      case ACTION.create:
        return this.create(request, context);
      case ACTION.command:
        return this.withShell(request, (shell) => this.command(request, shell, context));
      case ACTION.send:
        return this.withShell(request, (shell) => this.send(request, shell));
      case ACTION.receive:
        return this.withShell(request, (shell) => this.receive(request, shell, context));
      case ACTION.signal:
        return this.withShell(request, (shell) => this.signal(request, shell));
      case ACTION.delete:
        return this.withShell(request, (shell) => this.delete(request, shell));
      default:
        return this.fault(request, actionNotSupported(request.action));
    }
  }

  /** Stops every command and forgets every shell (the fleet is closing). */
  shutdown(): void {
    for (const shell of this.shells?.values() ?? []) this.removeShell(shell);
  }

  private create(request: WsmanRequest, context: RequestContext): Reply {
    const shells = this.shellMap();
    const owned = [...shells.values()].filter((s) => s.owner === context.user).length;
    if (owned >= this.settings.maxShellsPerUser) {
      return this.fault(request, shellQuota(this.settings.maxShellsPerUser));
    }
    const codePage =
      Number(request.options.get('WINRS_CODEPAGE')) || this.spec.codePage || OEM_US_CODE_PAGE;
    const idleText = child(request.body, NS.shell, 'IdleTimeOut')?.text.trim();
    const idleMs = Math.min(
      idleText ? parseDurationMs(idleText) : Number.POSITIVE_INFINITY,
      this.settings.idleShellTimeoutMs,
    );
    const shell = new SimShell(context.user, codePage, idleMs, (s) => this.reap(s));
    shells.set(shell.id, shell);
    this.settings.stats.shellsOpen++;
    return this.ok(request, ACTION.createResponse, this.shellCreatedBody(shell, context));
  }

  private shellCreatedBody(shell: SimShell, context: RequestContext): string {
    const idleSeconds = (shell.idleTimeoutMs / 1000).toFixed(3);
    return (
      `<x:ResourceCreated><a:Address>http://${this.address}:${this.settings.port}/wsman</a:Address>` +
      `<a:ReferenceParameters><w:ResourceURI>${CMD_SHELL_RESOURCE_URI}</w:ResourceURI>` +
      `<w:SelectorSet><w:Selector Name="ShellId">${shell.id}</w:Selector></w:SelectorSet>` +
      `</a:ReferenceParameters></x:ResourceCreated>` +
      `<rsp:Shell xmlns:rsp="${NS.shell}"><rsp:ShellId>${shell.id}</rsp:ShellId>` +
      `<rsp:ResourceUri>${CMD_SHELL_RESOURCE_URI}</rsp:ResourceUri>` +
      `<rsp:Owner>${escapeXml(shell.owner)}</rsp:Owner>` +
      `<rsp:ClientIP>${escapeXml(context.clientIp)}</rsp:ClientIP>` +
      `<rsp:IdleTimeOut>PT${idleSeconds}S</rsp:IdleTimeOut>` +
      `<rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams>` +
      `<rsp:ShellRunTime>P0DT0H0M0S</rsp:ShellRunTime>` +
      `<rsp:ShellInactivity>P0DT0H0M0S</rsp:ShellInactivity></rsp:Shell>`
    );
  }

  private command(request: WsmanRequest, shell: SimShell, context: RequestContext): Reply {
    const commandLine = request.body;
    const program = child(commandLine, NS.shell, 'Command')?.text.trim();
    if (commandLine?.ns !== NS.shell || commandLine.local !== 'CommandLine' || !program) {
      return this.fault(request, invalidRequest('rsp:CommandLine with rsp:Command expected'));
    }
    const args = children(commandLine, NS.shell, 'Arguments').map((a) => a.text);
    const line = [program, ...args].join(' ');
    if (shell.commandsStarted >= this.settings.maxCommandsPerShell) {
      return this.fault(request, OPERATION_QUOTA);
    }
    const skipCmdShell = request.options.get('WINRS_SKIP_CMD_SHELL')?.toUpperCase() === 'TRUE';
    if (skipCmdShell && !isExecutable(line)) return this.fault(request, FILE_NOT_FOUND);

    const seed =
      this.settings.seed ^ hashString(`${this.computerName}#${shell.id}#${shell.commandsStarted}`);
    const command = new SimCommand(
      shell.codePage,
      seededRandom(seed),
      commandLine?.attrs.get('CommandId'),
    );
    shell.commandsStarted++;
    shell.commands.set(command.id, command);
    this.settings.stats.commandStarted(this.computerName);
    this.start(command, line, context.user);
    const body = `<rsp:CommandResponse><rsp:CommandId>${command.id}</rsp:CommandId></rsp:CommandResponse>`;
    return this.ok(request, ACTION.commandResponse, body);
  }

  private start(command: SimCommand, line: string, user: string): void {
    const host = this.programHost(command, user);
    runProgram(line, host).then(
      (exitCode) => command.finish(exitCode),
      (error: unknown) => {
        this.settings.logger?.error(
          { err: error, deviceId: this.computerName },
          'simulated program crashed',
        );
        command.finish(1);
      },
    );
  }

  private programHost(command: SimCommand, user: string): ProgramHost {
    const codePage = command.codePage;
    // Created when the first command runs: an idle device holds no state.
    this.serviceStates ??= new Map();
    const serviceStates = this.serviceStates;
    return {
      computerName: this.computerName,
      userName: user,
      address: this.address,
      faults: this.faults,
      serviceStates,
      signal: command.abort.signal,
      out: (text) => command.write('stdout', text),
      err: (text) => command.write('stderr', text),
      sleep: (ms) => sleep(ms, undefined, { signal: command.abort.signal }).catch(() => undefined),
      readStdin: async () => decodeInput(await command.readStdin(), codePage),
    };
  }

  private send(request: WsmanRequest, shell: SimShell): Reply {
    const streams = children(request.body, NS.shell, 'Stream');
    if (request.body?.ns !== NS.shell || request.body.local !== 'Send' || streams.length === 0) {
      return this.fault(request, invalidRequest('rsp:Send with rsp:Stream expected'));
    }
    for (const stream of streams) {
      const command = shell.commands.get(stream.attrs.get('CommandId') ?? '');
      if (!command) return this.fault(request, COMMAND_NOT_FOUND);
      const end = stream.attrs.get('End')?.toLowerCase() === 'true';
      command.sendStdin(Buffer.from(stream.text.trim(), 'base64'), end);
    }
    return this.ok(request, ACTION.sendResponse, '<rsp:SendResponse/>');
  }

  private async receive(
    request: WsmanRequest,
    shell: SimShell,
    context: RequestContext,
  ): Promise<Reply | null> {
    const desired = child(request.body, NS.shell, 'DesiredStream');
    const commandId = desired?.attrs.get('CommandId') ?? [...shell.commands.keys()].pop() ?? '';
    const command = shell.commands.get(commandId);
    if (!command) return this.fault(request, COMMAND_NOT_FOUND);

    const ready = await command.waitForOutput(request.operationTimeoutMs, context.signal);
    if (context.signal.aborted) return null;
    if (!shell.commands.has(commandId)) return this.fault(request, COMMAND_NOT_FOUND);
    if (!ready) return this.fault(request, TIMED_OUT);

    const batch = command.take(this.receiveBudgetBytes());
    if (batch.done && !command.doneDelivered) {
      command.doneDelivered = true;
      this.settings.stats.commandEnded(this.computerName);
    }
    shell.touch();
    return this.ok(request, ACTION.receiveResponse, receiveBody(command.id, batch));
  }

  /** Bytes one Receive hands back: log-uniform from 32 to 4096, so output spans responses. */
  private receiveBudgetBytes(): number {
    return Math.floor(2 ** (5 + this.random() * 7));
  }

  private signal(request: WsmanRequest, shell: SimShell): Reply {
    const commandId = request.body?.attrs.get('CommandId') ?? '';
    const code = child(request.body, NS.shell, 'Code')?.text.trim();
    const command = shell.commands.get(commandId);
    if (request.body?.ns !== NS.shell || request.body.local !== 'Signal' || !command) {
      return this.fault(request, COMMAND_NOT_FOUND);
    }
    if (code === SIGNAL.ctrlC) {
      command.finish(CTRL_C_EXIT_CODE);
      command.stop();
    } else {
      // terminate (or any other code): the command is gone, its operation slot is not freed.
      shell.commands.delete(commandId);
      this.endCommand(command);
    }
    return this.ok(request, ACTION.signalResponse, '<rsp:SignalResponse/>');
  }

  private delete(request: WsmanRequest, shell: SimShell): Reply {
    this.removeShell(shell);
    return this.ok(request, ACTION.deleteResponse, '');
  }

  private reap(shell: SimShell): void {
    this.settings.logger?.debug(
      { deviceId: this.computerName, shellId: shell.id },
      'idle shell reaped',
    );
    this.removeShell(shell);
  }

  private removeShell(shell: SimShell): void {
    if (!this.shells?.delete(shell.id)) return;
    this.settings.stats.shellsOpen--;
    for (const command of shell.dispose()) this.endCommand(command);
    if (this.shells.size === 0) this.shells = undefined;
  }

  private endCommand(command: SimCommand): void {
    command.stop();
    if (command.doneDelivered) return;
    command.doneDelivered = true;
    this.settings.stats.commandEnded(this.computerName);
  }

  private async withShell(
    request: WsmanRequest,
    act: (shell: SimShell) => Reply | null | Promise<Reply | null>,
  ): Promise<Reply | null> {
    const shellId = request.selectors.get('ShellId') ?? '';
    const shell = this.shells?.get(shellId);
    if (!shell) return this.fault(request, shellNotFound(shellId));
    shell.touch();
    return act(shell);
  }

  private shellMap(): Map<string, SimShell> {
    this.shells ??= new Map();
    return this.shells;
  }

  private ok(request: WsmanRequest, action: string, body: string): Reply {
    return { status: 200, body: envelope(action, request.messageId, body) };
  }

  private fault(request: WsmanRequest, fault: FaultSpec): Reply {
    this.settings.stats.faultAnswered(fault.code);
    return { status: 500, body: faultEnvelope(request.messageId, fault, this.address) };
  }
}

function receiveBody(commandId: string, batch: ReceiveBatch): string {
  const attrs = `CommandId="${commandId}"`;
  let body = '<rsp:ReceiveResponse>';
  for (const chunk of batch.chunks) {
    body += `<rsp:Stream Name="${chunk.stream}" ${attrs}>${chunk.bytes.toString('base64')}</rsp:Stream>`;
  }
  if (batch.done) {
    body += `<rsp:Stream Name="stdout" ${attrs} End="true"></rsp:Stream>`;
    body += `<rsp:Stream Name="stderr" ${attrs} End="true"></rsp:Stream>`;
    body += `<rsp:CommandState ${attrs} State="${COMMAND_STATE.done}"><rsp:ExitCode>${batch.exitCode}</rsp:ExitCode></rsp:CommandState>`;
  } else {
    body += `<rsp:CommandState ${attrs} State="${COMMAND_STATE.running}"></rsp:CommandState>`;
  }
  return `${body}</rsp:ReceiveResponse>`;
}
