import type { Section } from '../../pipeline/config/section.js';

export interface RotationConfig {
  maxMegabytes: number;
  /** 0 = keep backups regardless of age. */
  maxDays: number;
  /** 0 = keep every backup (subject to max_days). */
  maxBackups: number;
  /** Timestamps in backup names in local time instead of UTC. */
  localtime: boolean;
}

export interface FileConfig {
  path: string;
  /** 0 = write (and await) every request in `consume`. */
  flushIntervalMs: number;
  /** Present only when the user wrote a `rotation` block, as in the collector. */
  rotation?: RotationConfig;
}

export const DEFAULT_FLUSH_INTERVAL_MS = 1_000;
export const DEFAULT_MAX_MEGABYTES = 100;
export const DEFAULT_MAX_DAYS = 0;
export const DEFAULT_MAX_BACKUPS = 100;
export const DEFAULT_LOCALTIME = false;
/** Buffered bytes that force a write inside `consume`, bounding memory between flushes. */
export const MAX_BUFFER_BYTES = 4 * 1024 * 1024;

export function createDefaultConfig(): FileConfig {
  return { path: '', flushIntervalMs: DEFAULT_FLUSH_INTERVAL_MS };
}

export function createDefaultRotation(): RotationConfig {
  return { maxMegabytes: DEFAULT_MAX_MEGABYTES, maxDays: DEFAULT_MAX_DAYS, maxBackups: DEFAULT_MAX_BACKUPS, localtime: DEFAULT_LOCALTIME };
}

/** Reads the user's section over the defaults. The caller calls `section.done()`. */
export function readConfig(section: Section): FileConfig {
  const d = createDefaultConfig();
  const path = section.string('path', d.path);
  if (path === '') section.error('path', 'is required');
  section.oneOf('format', ['json'] as const, 'json');
  const config: FileConfig = { path, flushIntervalMs: section.duration('flush_interval', d.flushIntervalMs) };
  if (section.has('rotation')) {
    const r = section.section('rotation');
    const dr = createDefaultRotation();
    config.rotation = {
      maxMegabytes: r.number('max_megabytes', dr.maxMegabytes, 0),
      maxDays: r.int('max_days', dr.maxDays),
      maxBackups: r.int('max_backups', dr.maxBackups),
      localtime: r.bool('localtime', dr.localtime),
    };
    if (config.rotation.maxMegabytes === 0) r.error('max_megabytes', 'must be greater than 0');
    r.done();
  } else {
    section.raw('rotation');
  }
  return config;
}
