import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../shared/logger.ts';

const CONNECTOR_MAIN = fileURLToPath(new URL('../connector/main.ts', import.meta.url));
/**
 * Inside the repository, so that the bundle's external imports (better-sqlite3, the AWS SDK,
 * pino...) resolve from the repository's node_modules whatever the stack's data dir is.
 */
const BUNDLE_DIR = fileURLToPath(new URL('../node_modules/.cache/winfleet/', import.meta.url));

/**
 * Bundles `connector/main.ts` with esbuild into one ESM file run by plain `node`: a connector
 * started that way does not load the tsx loader (about 37 MB resident per process). Packages
 * stay external. Returns the bundle's absolute path, or undefined (logged) when bundling fails,
 * in which case connectors run through tsx as before.
 */
export async function bundleConnector(logger: Logger): Promise<string | undefined> {
  const outfile = join(BUNDLE_DIR, 'connector.mjs');
  // Several stacks (parallel test files) may bundle at once: each writes its own file and
  // renames it into place, so a connector never starts from a half-written bundle.
  const partial = join(BUNDLE_DIR, `connector-${process.pid}-${Date.now()}.mjs.partial`);
  try {
    mkdirSync(BUNDLE_DIR, { recursive: true });
    const { build } = await import('esbuild');
    await build({
      entryPoints: [CONNECTOR_MAIN],
      outfile: partial,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      logLevel: 'silent',
    });
    renameSync(partial, outfile);
    return outfile;
  } catch (error) {
    rmSync(partial, { force: true });
    logger.warn({ err: error }, 'connector bundle failed, connectors run through tsx');
    return undefined;
  }
}
