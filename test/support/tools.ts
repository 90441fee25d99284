import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../pipeline/cli/package-root.js';

export const ROOT = packageRoot();

/**
 * Path of a tool .ci/run builds (Jaeger, the sensor, the collector builder's otelcol).
 * Missing tools skip a test on a developer laptop, but under CI they are a failure: CI is where the
 * real peers must run.
 */
export function tool(envVar: string, defaultPath: string): string | undefined {
  const path = process.env[envVar] ?? join(ROOT, defaultPath);
  if (existsSync(path)) return path;
  if (process.env.CI) throw new Error(`${path} is missing (set ${envVar} or run .ci/install-tools.sh); CI must run this test for real`);
  return undefined;
}

export const jaegerBin = () => tool('JAEGER_BIN', '.tools/bin/jaeger');
export const collectorMain = () => join(ROOT, 'dist', 'pipeline', 'cli', 'main.js');
