import type { Section } from '../../pipeline/config/section.js';
import { DEFAULT_LIMITER, type LimiterConfig } from '../../pipeline/deviation/index.js';

export interface BaselineConfig {
  /** Where profiles persist, one file each; '' keeps them in memory only. */
  directory: string;
  learning: {
    /** A profile learns at least this long after its component was first seen... */
    durationMs: number;
    /** ...and until it has seen this many observations (spans and kernel spans of the component). */
    minObservations: number;
  };
  /** A directory with more distinct children than this becomes `dir/*` in a profile (Kubescape: 50). */
  collapseThreshold: number;
  /** Path prefixes that are sensitive: never collapsed, and opening one not in the profile is credential access. */
  sensitivePaths: string[];
  /** Opens under or containing these are the runtime's, not the component's (libraries, /proc, /sys). */
  ignorePaths: string[];
  /** A trace is evaluated once no span of it arrived for this long (kernel spans follow the agent's). */
  settleMs: number;
  /** Traces held open at most (their evaluated spans stay for late kernel spans until `traceTtl`). */
  maxOpenTraces: number;
  /** Spans kept per open trace at most; more are counted and not evaluated. */
  maxSpansPerTrace: number;
  /** An open trace is forgotten this long after its last span. */
  traceTtlMs: number;
  /** Profiles kept at most; a component beyond it is counted and not profiled. */
  maxProfiles: number;
  /** Entries per fact list of one profile (executables, files, destinations, argument values ...). */
  maxFactsPerList: number;
  /** Samples kept per size statistic (the newest replace the oldest): bounds each profile's memory. */
  maxSamples: number;
  /** Size statistics per profile at most (tool arguments plus request-body destinations). */
  maxStatistics: number;
  /** An argument with more distinct values than this while learning is high-cardinality: its values are not checked. */
  lowCardinalityMax: number;
  /** A size (argument length, request body) is anomalous above max(largest learned x size_tolerance, median + mad_factor x MAD). */
  sizeTolerance: number;
  madFactor: number;
  /** A DNS label at least this long and random-looking is data-shaped (exfiltration over DNS). */
  dnsLabelMin: number;
  /** How often changed profiles are written. */
  flushIntervalMs: number;
  /** A child process under a tool call whose command line contains one of these is an MCP stdio server (as in `aibom`). */
  mcpCommandPatterns: string[];
  noise: LimiterConfig;
}

export const DEFAULT_LEARNING_DURATION_MS = 24 * 3_600_000;
export const DEFAULT_MIN_OBSERVATIONS = 200;
export const DEFAULT_COLLAPSE_THRESHOLD = 50;
export const DEFAULT_SENSITIVE_PATHS: readonly string[] = [
  '/etc/shadow',
  '/etc/gshadow',
  '/etc/sudoers',
  '/root/.ssh/',
  '/.ssh/',
  '/.aws/',
  '/.config/gcloud/',
  '/.kube/config',
  '/.docker/config.json',
  '/.netrc',
  '/.git-credentials',
  '/var/run/secrets/',
  '/run/secrets/',
  '.env',
];
export const DEFAULT_IGNORE_PATHS: readonly string[] = ['/proc/', '/sys/', '/dev/', '/usr/lib/', '/usr/share/', '/usr/local/lib/', '/lib/', '/lib64/', '/etc/ld.so', '/etc/ssl/', '/etc/localtime', '/node_modules/', '/site-packages/', '/__pycache__/', '/.venv/'];
export const DEFAULT_SETTLE_MS = 500;
export const DEFAULT_MAX_OPEN_TRACES = 4096;
export const DEFAULT_MAX_SPANS_PER_TRACE = 2048;
export const DEFAULT_TRACE_TTL_MS = 30_000;
export const DEFAULT_MAX_PROFILES = 500;
export const DEFAULT_MAX_FACTS_PER_LIST = 128;
export const DEFAULT_MAX_SAMPLES = 64;
export const DEFAULT_MAX_STATISTICS = 32;
export const DEFAULT_LOW_CARDINALITY_MAX = 8;
export const DEFAULT_SIZE_TOLERANCE = 3;
export const DEFAULT_MAD_FACTOR = 10;
export const DEFAULT_DNS_LABEL_MIN = 24;
export const DEFAULT_FLUSH_INTERVAL_MS = 5_000;

export function createDefaultConfig(): BaselineConfig {
  return {
    directory: '',
    learning: { durationMs: DEFAULT_LEARNING_DURATION_MS, minObservations: DEFAULT_MIN_OBSERVATIONS },
    collapseThreshold: DEFAULT_COLLAPSE_THRESHOLD,
    sensitivePaths: [...DEFAULT_SENSITIVE_PATHS],
    ignorePaths: [...DEFAULT_IGNORE_PATHS],
    settleMs: DEFAULT_SETTLE_MS,
    maxOpenTraces: DEFAULT_MAX_OPEN_TRACES,
    maxSpansPerTrace: DEFAULT_MAX_SPANS_PER_TRACE,
    traceTtlMs: DEFAULT_TRACE_TTL_MS,
    maxProfiles: DEFAULT_MAX_PROFILES,
    maxFactsPerList: DEFAULT_MAX_FACTS_PER_LIST,
    maxSamples: DEFAULT_MAX_SAMPLES,
    maxStatistics: DEFAULT_MAX_STATISTICS,
    lowCardinalityMax: DEFAULT_LOW_CARDINALITY_MAX,
    sizeTolerance: DEFAULT_SIZE_TOLERANCE,
    madFactor: DEFAULT_MAD_FACTOR,
    dnsLabelMin: DEFAULT_DNS_LABEL_MIN,
    flushIntervalMs: DEFAULT_FLUSH_INTERVAL_MS,
    mcpCommandPatterns: ['mcp', 'modelcontextprotocol'],
    noise: { ...DEFAULT_LIMITER },
  };
}

/** Reads the user's section over the defaults. The caller calls `section.done()`. */
export function readConfig(section: Section): BaselineConfig {
  const d = createDefaultConfig();
  const learning = section.section('learning');
  const noise = section.section('noise');
  const c: BaselineConfig = {
    directory: section.string('directory', d.directory),
    learning: { durationMs: learning.duration('duration', d.learning.durationMs), minObservations: learning.int('min_observations', d.learning.minObservations, 0) },
    collapseThreshold: section.int('collapse_threshold', d.collapseThreshold, 2, 100_000),
    sensitivePaths: section.stringList('sensitive_paths', d.sensitivePaths),
    ignorePaths: section.stringList('ignore_paths', d.ignorePaths),
    settleMs: section.duration('settle', d.settleMs),
    maxOpenTraces: section.int('max_open_traces', d.maxOpenTraces, 1),
    maxSpansPerTrace: section.int('max_spans_per_trace', d.maxSpansPerTrace, 1),
    traceTtlMs: section.duration('trace_ttl', d.traceTtlMs),
    maxProfiles: section.int('max_profiles', d.maxProfiles, 1),
    maxFactsPerList: section.int('max_facts_per_list', d.maxFactsPerList, 1, 100_000),
    maxSamples: section.int('max_samples', d.maxSamples, 8, 100_000),
    maxStatistics: section.int('max_statistics', d.maxStatistics, 1, 100_000),
    lowCardinalityMax: section.int('low_cardinality_max', d.lowCardinalityMax, 1, 1000),
    sizeTolerance: section.number('size_tolerance', d.sizeTolerance, 1),
    madFactor: section.number('mad_factor', d.madFactor, 1),
    dnsLabelMin: section.int('dns_label_min', d.dnsLabelMin, 8, 63),
    flushIntervalMs: section.duration('flush_interval', d.flushIntervalMs),
    mcpCommandPatterns: section.stringList('mcp_command_patterns', d.mcpCommandPatterns),
    noise: {
      dedupeWindowMs: noise.duration('dedupe_window', d.noise.dedupeWindowMs),
      maxPerMinute: noise.int('max_per_minute', d.noise.maxPerMinute, 1),
      maxKeys: noise.int('max_keys', d.noise.maxKeys, 1),
    },
  };
  learning.done();
  noise.done();
  if (c.settleMs <= 0) section.error('settle', 'must be greater than 0');
  if (c.traceTtlMs < c.settleMs) section.error('trace_ttl', `must be at least settle (${c.settleMs} ms)`);
  if (c.flushIntervalMs <= 0) section.error('flush_interval', 'must be greater than 0');
  return c;
}
