import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, CfnElement, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { addWinfleet } from './winfleet-app.ts';
import type { WinfleetStack } from './winfleet-stack.ts';

/**
 * Builds the app as `cdk synth` does, with bundling skipped (`aws:cdk:bundling-stacks` empty)
 * and every handler pointed at an existing file, so tests neither run esbuild nor depend on
 * handlers being written.
 */
export function buildTestApp(context: Record<string, unknown> = {}): {
  app: App;
  stack: WinfleetStack;
} {
  const app = new App({
    outdir: mkdtempSync(join(tmpdir(), 'winfleet-cdk-')),
    context: { 'aws:cdk:bundling-stacks': [], ...context },
  });
  const anyFile = fileURLToPath(import.meta.url);
  const stack = addWinfleet(app, { handlerEntry: () => anyFile });
  return { app, stack };
}

/** Synthesizes (running cdk-nag) and returns the stack's template. */
export function synthTemplate(app: App, stack: Stack): Template {
  app.synth();
  return Template.fromStack(stack);
}

/** Writes `text` to a new file in a temporary folder and returns its path. */
export function writeTempFile(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'winfleet-infra-')), name);
  writeFileSync(path, text);
  return path;
}

/** The CloudFormation logical id of a construct's resource. */
export function logicalId(stack: Stack, construct: IConstruct): string {
  const element = construct.node.defaultChild ?? construct;
  if (!CfnElement.isCfnElement(element)) throw new Error(`${construct.node.path} has no resource`);
  return stack.resolve(element.logicalId) as string;
}
