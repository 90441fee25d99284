import type { Section } from '../../pipeline/config/section.js';
import { DEFAULT_LIMITER } from '../../pipeline/deviation/index.js';
import { DEFAULT_IGNORE_PATHS } from '../aibom/config.js';

export interface ProvenanceConfig {
  /**
   * A trace is evaluated once no agent span of it arrived for this long. SDKs export in batches every
   * 5 s (OTel JS and Python `BatchSpanProcessor`), so one trace's spans can arrive 5 s and more apart;
   * kernel spans come 1-2 s after their tool span.
   */
  settleMs: number;
  /** A trace still receiving spans is evaluated this long after its first span anyway. */
  maxTraceAgeMs: number;
  /** Traces held open at most; past it the oldest is evaluated early (counted, reason `overflow`). */
  maxOpenTraces: number;
  /** Content hashes held per open trace; content past it is not indexed (counted). */
  maxEntriesPerTrace: number;
  /** Content hashes held over all open traces (4-8 bytes each); past it the oldest traces are evaluated early (`overflow`). */
  maxTotalEntries: number;
  /** Tool calls, content sources and kernel facts kept per trace, each. */
  maxItemsPerTrace: number;
  /** How often open traces are checked for settling. */
  tickMs: number;
  /** Files opened under these are plumbing, never a value taken from content. */
  ignorePaths: string[];
  /** Also report instruction-shaped text in tool results (`instruction-in-tool-result`, severity low). */
  instructions: boolean;
  /** The same deviation (rule, tool, value) again within this time is counted, not emitted. */
  dedupeWindowMs: number;
  /** Deviations emitted per tool and rule per minute at most; the rest are counted. */
  maxPerMinute: number;
}

export const DEFAULT_SETTLE_MS = 12_000;
export const DEFAULT_MAX_TRACE_AGE_MS = 120_000;
export const DEFAULT_MAX_OPEN_TRACES = 1_024;
export const DEFAULT_MAX_ENTRIES_PER_TRACE = 200_000;
export const DEFAULT_MAX_ITEMS_PER_TRACE = 512;
export const DEFAULT_MAX_TOTAL_ENTRIES = 4_194_304;
export const DEFAULT_TICK_MS = 500;

export function createDefaultConfig(): ProvenanceConfig {
  return {
    settleMs: DEFAULT_SETTLE_MS,
    maxTraceAgeMs: DEFAULT_MAX_TRACE_AGE_MS,
    maxOpenTraces: DEFAULT_MAX_OPEN_TRACES,
    maxEntriesPerTrace: DEFAULT_MAX_ENTRIES_PER_TRACE,
    maxTotalEntries: DEFAULT_MAX_TOTAL_ENTRIES,
    maxItemsPerTrace: DEFAULT_MAX_ITEMS_PER_TRACE,
    tickMs: DEFAULT_TICK_MS,
    ignorePaths: [...DEFAULT_IGNORE_PATHS],
    instructions: true,
    dedupeWindowMs: DEFAULT_LIMITER.dedupeWindowMs,
    maxPerMinute: DEFAULT_LIMITER.maxPerMinute,
  };
}

/** Reads the user's section over the defaults. The caller calls `section.done()`. */
export function readConfig(section: Section): ProvenanceConfig {
  const d = createDefaultConfig();
  const c: ProvenanceConfig = {
    settleMs: section.duration('settle', d.settleMs),
    maxTraceAgeMs: section.duration('max_trace_age', d.maxTraceAgeMs),
    maxOpenTraces: section.int('max_open_traces', d.maxOpenTraces, 1),
    maxEntriesPerTrace: section.int('max_entries_per_trace', d.maxEntriesPerTrace, 1),
    maxTotalEntries: section.int('max_total_entries', d.maxTotalEntries, 1),
    maxItemsPerTrace: section.int('max_items_per_trace', d.maxItemsPerTrace, 1),
    tickMs: section.duration('tick_interval', d.tickMs),
    ignorePaths: section.stringList('ignore_paths', d.ignorePaths),
    instructions: section.bool('instructions', d.instructions),
    dedupeWindowMs: section.duration('dedupe_window', d.dedupeWindowMs),
    maxPerMinute: section.int('max_per_minute', d.maxPerMinute, 1),
  };
  if (c.settleMs <= 0) section.error('settle', 'must be greater than 0');
  if (c.tickMs <= 0) section.error('tick_interval', 'must be greater than 0');
  if (c.maxTotalEntries < c.maxEntriesPerTrace) section.error('max_total_entries', `must be at least max_entries_per_trace (${c.maxEntriesPerTrace})`);
  if (c.maxTraceAgeMs < c.settleMs) section.error('max_trace_age', `must be at least settle (${c.settleMs} ms)`);
  return c;
}
