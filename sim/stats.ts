import type { FleetStats } from './types.ts';

/** Counts shells and active commands; a command is active from Command until Done or its end. */
export class StatsTracker implements FleetStats {
  activeCommands = 0;
  maxActiveCommands = 0;
  commandsRun = 0;
  activeCommandsByDevice = new Map<string, number>();
  maxActiveCommandsPerDevice = 0;
  shellsOpen = 0;
  faultsByCode = new Map<number, number>();
  requestsByAction = new Map<string, number>();

  requestReceived(action: string): void {
    const name = action.slice(action.lastIndexOf('/') + 1);
    this.requestsByAction.set(name, (this.requestsByAction.get(name) ?? 0) + 1);
  }

  faultAnswered(code: number): void {
    this.faultsByCode.set(code, (this.faultsByCode.get(code) ?? 0) + 1);
  }

  commandStarted(computerName: string): void {
    this.commandsRun++;
    this.activeCommands++;
    this.maxActiveCommands = Math.max(this.maxActiveCommands, this.activeCommands);
    const onDevice = (this.activeCommandsByDevice.get(computerName) ?? 0) + 1;
    this.activeCommandsByDevice.set(computerName, onDevice);
    this.maxActiveCommandsPerDevice = Math.max(this.maxActiveCommandsPerDevice, onDevice);
  }

  commandEnded(computerName: string): void {
    this.activeCommands--;
    const onDevice = (this.activeCommandsByDevice.get(computerName) ?? 1) - 1;
    if (onDevice > 0) this.activeCommandsByDevice.set(computerName, onDevice);
    else this.activeCommandsByDevice.delete(computerName);
  }

  reset(): void {
    this.commandsRun = 0;
    this.faultsByCode.clear();
    this.requestsByAction.clear();
    this.maxActiveCommands = this.activeCommands;
    this.maxActiveCommandsPerDevice = Math.max(0, ...this.activeCommandsByDevice.values());
  }
}
