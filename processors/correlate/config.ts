import { Section } from '../../pipeline/config/section.js';
import { defaultFoldConfig, globRule, type FoldConfig, type FoldRule } from './fold.js';

export interface CorrelateConfig {
  /** How long a kernel event waits for the span that caused it; then it is emitted as process activity. */
  windowMs: number;
  /** A span's events are placed once it arrived this long ago, so its children (exported first) are indexed. */
  settleMs: number;
  /** Tolerance when testing whether an event falls inside a span (SDK and kernel clocks differ slightly). */
  clockSkewMs: number;
  /** How often buffered events are matched and emitted. */
  tickMs: number;
  /** Kernel events held at most; beyond it the oldest are emitted early as unmatched activity (counted). */
  maxBufferedEvents: number;
  /** Spans indexed at most (oldest evicted first). */
  maxIndexedSpans: number;
  /** Processes remembered for ancestry (pid -> parent, executable). */
  maxProcesses: number;
  /** Also forward the kernel-event log records themselves on the logs pipeline. */
  forwardKernelEvents: boolean;
  /** Plumbing opens (module loading, shared libraries, locale data) folded into one span per parent and root. */
  fold: FoldConfig;
}

export const DEFAULT_WINDOW_MS = 30_000;
export const DEFAULT_SETTLE_MS = 1_000;
export const DEFAULT_CLOCK_SKEW_MS = 10;
export const DEFAULT_TICK_MS = 250;
export const DEFAULT_MAX_BUFFERED_EVENTS = 100_000;
export const DEFAULT_MAX_INDEXED_SPANS = 200_000;
export const DEFAULT_MAX_PROCESSES = 65_536;

export function createDefaultConfig(): CorrelateConfig {
  return {
    windowMs: DEFAULT_WINDOW_MS,
    settleMs: DEFAULT_SETTLE_MS,
    clockSkewMs: DEFAULT_CLOCK_SKEW_MS,
    tickMs: DEFAULT_TICK_MS,
    maxBufferedEvents: DEFAULT_MAX_BUFFERED_EVENTS,
    maxIndexedSpans: DEFAULT_MAX_INDEXED_SPANS,
    maxProcesses: DEFAULT_MAX_PROCESSES,
    forwardKernelEvents: false,
    fold: defaultFoldConfig(),
  };
}

/** Beyond it the next operation's span would take the events of the one before. */
const MAX_CLOCK_SKEW_MS = 1000;

/** Reads the user's section over the defaults. The caller calls `section.done()`. */
export function readConfig(section: Section): CorrelateConfig {
  const d = createDefaultConfig();
  const c: CorrelateConfig = {
    windowMs: section.duration('window', d.windowMs),
    settleMs: section.duration('settle', d.settleMs),
    clockSkewMs: section.duration('clock_skew_tolerance', d.clockSkewMs),
    tickMs: section.duration('tick_interval', d.tickMs),
    maxBufferedEvents: section.int('max_buffered_events', d.maxBufferedEvents, 1),
    maxIndexedSpans: section.int('max_indexed_spans', d.maxIndexedSpans, 1),
    maxProcesses: section.int('max_processes', d.maxProcesses, 1),
    forwardKernelEvents: section.bool('forward_kernel_events', d.forwardKernelEvents),
    fold: readFold(section.section('fold'), d.fold),
  };
  if (c.tickMs <= 0) section.error('tick_interval', 'must be greater than 0');
  // SDKs and the sensor read the same host clock; the span index's time buckets assume a slack of this order.
  if (c.clockSkewMs > MAX_CLOCK_SKEW_MS) section.error('clock_skew_tolerance', `must be at most ${MAX_CLOCK_SKEW_MS} ms`);
  if (c.settleMs >= c.windowMs) section.error('settle', `must be shorter than window (${c.windowMs} ms)`);
  return c;
}

function readFold(s: Section, d: FoldConfig): FoldConfig {
  const fold: FoldConfig = {
    enabled: s.bool('enabled', d.enabled),
    defaults: s.bool('defaults', d.defaults),
    rules: readRules(s),
    samplePaths: s.int('sample_paths', d.samplePaths, 1, 1000),
  };
  s.done();
  return fold;
}

/** `rules: [{ name, paths: [glob, ...] }]`: the user's plumbing, tried before the built-in rules. */
function readRules(s: Section): FoldRule[] {
  const raw = s.raw('rules');
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    s.error('rules', 'expected a list of { name, paths }');
    return [];
  }
  return raw.flatMap((item, i) => {
    const r = new Section(item, `${s.path}.rules[${i}]`, s.errors);
    const name = r.string('name', '');
    const paths = r.stringList('paths', []);
    r.done();
    if (!name) r.error('name', 'is required');
    if (paths.length === 0) r.error('paths', 'must list at least one glob');
    const bad = paths.find((p) => !p.startsWith('/') && !p.startsWith('**'));
    if (bad !== undefined) r.error('paths', `must be absolute globs (or start with **), got ${JSON.stringify(bad)}`);
    return name && paths.length > 0 && bad === undefined ? [globRule(name, paths)] : [];
  });
}
