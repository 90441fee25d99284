import type { Section } from '../../pipeline/config/section.js';

export interface EnrichConfig {
  /** Where the process table is mounted: `/proc`, or the host's (`/host/proc`) in a DaemonSet. */
  procPath: string;
  /** Processes whose identity (or absence) is remembered at most; the least recently used goes first. */
  cacheSize: number;
  /** How long a remembered identity holds: pids get reused, a process may be gone. */
  cacheTtlMs: number;
}

export const DEFAULT_PROC_PATH = '/proc';
export const DEFAULT_CACHE_SIZE = 4096;
export const DEFAULT_CACHE_TTL_MS = 60_000;

export function createDefaultConfig(): EnrichConfig {
  return { procPath: DEFAULT_PROC_PATH, cacheSize: DEFAULT_CACHE_SIZE, cacheTtlMs: DEFAULT_CACHE_TTL_MS };
}

/** Reads the user's section over the defaults. The caller calls `section.done()`. */
export function readConfig(section: Section): EnrichConfig {
  const d = createDefaultConfig();
  const c: EnrichConfig = {
    procPath: section.string('proc_path', d.procPath),
    cacheSize: section.int('cache_size', d.cacheSize, 1),
    cacheTtlMs: section.duration('cache_ttl', d.cacheTtlMs),
  };
  if (!c.procPath.startsWith('/')) section.error('proc_path', `must be an absolute path, got ${JSON.stringify(c.procPath)}`);
  if (c.cacheTtlMs <= 0) section.error('cache_ttl', 'must be greater than 0');
  return c;
}
