import type { Section } from '../../pipeline/config/section.js';

export interface HistoryConfig {
  /** The JSON-lines store; '' keeps no history (the report then has no deviations to show). */
  path: string;
  /** Entries older than this are dropped at start-up and at each compaction. */
  retentionMs: number;
  /** Entries kept at most; past it the oldest go at the next compaction (counted, reason `over_limit`). */
  maxEntries: number;
  /** Longest line written; a record past it is stored with its attributes cut (counted). */
  maxEntryBytes: number;
}

export const DEFAULT_RETENTION_MS = 90 * 24 * 3600_000;
export const DEFAULT_MAX_ENTRIES = 20_000;
export const DEFAULT_MAX_ENTRY_BYTES = 8 * 1024;

export function createDefaultConfig(): HistoryConfig {
  return { path: '', retentionMs: DEFAULT_RETENTION_MS, maxEntries: DEFAULT_MAX_ENTRIES, maxEntryBytes: DEFAULT_MAX_ENTRY_BYTES };
}

/** Reads the user's section over the defaults. The caller calls `section.done()`. */
export function readConfig(section: Section): HistoryConfig {
  const d = createDefaultConfig();
  const c: HistoryConfig = {
    path: section.string('path', d.path),
    retentionMs: section.duration('retention', d.retentionMs),
    maxEntries: section.int('max_entries', d.maxEntries, 1),
    maxEntryBytes: section.bytes('max_entry_bytes', d.maxEntryBytes),
  };
  if (c.retentionMs <= 0) section.error('retention', 'must be greater than 0');
  if (c.maxEntryBytes < 1024) section.error('max_entry_bytes', 'must be at least 1KiB');
  return c;
}
