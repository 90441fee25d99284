import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { packageRoot } from '../../pipeline/package-root.js';

export const ROOT = packageRoot();

/** Path of a tool .ci/run or bench/setup.sh builds (Jaeger, the sensor, the load generator), if built. */
export function findTool(envVar: string, defaultPath: string): string | undefined {
  const path = process.env[envVar] ?? resolve(ROOT, defaultPath);
  return existsSync(path) ? path : undefined;
}

/**
 * The same, for a test that needs the real peer: missing is a failure with the way to fix it, never a
 * skip, so the real-kernel and real-backend tests cannot go quiet anywhere, CI included.
 */
export function requireTool(envVar: string, defaultPath: string): string {
  const path = findTool(envVar, defaultPath);
  if (!path) throw new Error(`${process.env[envVar] ?? resolve(ROOT, defaultPath)} is missing: run .ci/install-tools.sh (or set ${envVar})`);
  return path;
}

export const jaegerBin = () => requireTool('JAEGER_BIN', '.tools/bin/jaeger');
export const collectorMain = () => join(ROOT, 'dist', 'pipeline', 'cli', 'main.js');
/** The launcher users start (package.json "bin"): the built CLI with its malloc and heap settings. */
export const collectorLauncher = () => join(ROOT, 'bin', 'aibom-collector');
