import type { Section } from '../../pipeline/config/section.js';

export type SpecVersion = '1.6' | '1.7';
export const SPEC_VERSIONS: readonly SpecVersion[] = ['1.6', '1.7'];

export interface AibomConfig {
  /** Where the inventory persists (`inventory.json`); '' keeps it in memory only. */
  directory: string;
  /** Entities kept at most; new ones past it are counted (`aibom_aibom_overflow_total`), not stored. */
  maxEntities: number;
  /** Trace ids kept per entity as evidence (newest replace the oldest). */
  maxEvidence: number;
  /** `entity.state` for every entity this often, besides the one sent when it appears or changes. */
  reportIntervalMs: number;
  /** An entity not seen for this long is removed (`entity.delete`); 0 = never. */
  expireAfterMs: number;
  /** How often changes are turned into entity events, the store and the CycloneDX file. */
  flushIntervalMs: number;
  /** A declared AI-BOM (CycloneDX, Snyk, k8s-aibom or our YAML): each new finding becomes a log record. */
  declared: string;
  cyclonedx: {
    /** Written (atomically) when the inventory changed; '' = not written. */
    path: string;
    specVersion: SpecVersion;
  };
  /** A child process under a tool call whose command line contains one of these is an MCP stdio server. */
  mcpCommandPatterns: string[];
  /** Files read under or containing these are not data sources (libraries, the runtime, /proc). */
  ignorePaths: string[];
}

export const DEFAULT_MAX_ENTITIES = 10_000;
export const DEFAULT_MAX_EVIDENCE = 16;
export const DEFAULT_REPORT_INTERVAL_MS = 5 * 60_000;
export const DEFAULT_EXPIRE_AFTER_MS = 7 * 24 * 3_600_000;
export const DEFAULT_FLUSH_INTERVAL_MS = 1_000;
export const DEFAULT_MCP_COMMAND_PATTERNS: readonly string[] = ['mcp', 'modelcontextprotocol'];
export const DEFAULT_IGNORE_PATHS: readonly string[] = [
  '/proc/',
  '/sys/',
  '/dev/',
  '/usr/lib/',
  '/usr/share/',
  '/usr/local/lib/',
  '/lib/',
  '/lib64/',
  '/etc/ld.so',
  '/etc/ssl/',
  '/etc/localtime',
  '/etc/nsswitch.conf',
  '/etc/hosts',
  '/etc/resolv.conf',
  '/node_modules/',
  '/site-packages/',
  '/.venv/',
  '/__pycache__/',
];

export function createDefaultConfig(): AibomConfig {
  return {
    directory: '',
    maxEntities: DEFAULT_MAX_ENTITIES,
    maxEvidence: DEFAULT_MAX_EVIDENCE,
    reportIntervalMs: DEFAULT_REPORT_INTERVAL_MS,
    expireAfterMs: DEFAULT_EXPIRE_AFTER_MS,
    flushIntervalMs: DEFAULT_FLUSH_INTERVAL_MS,
    declared: '',
    cyclonedx: { path: '', specVersion: '1.6' },
    mcpCommandPatterns: [...DEFAULT_MCP_COMMAND_PATTERNS],
    ignorePaths: [...DEFAULT_IGNORE_PATHS],
  };
}

/** Reads the user's section over the defaults. The caller calls `section.done()`. */
export function readConfig(section: Section): AibomConfig {
  const d = createDefaultConfig();
  const cdx = section.section('cyclonedx');
  const c: AibomConfig = {
    directory: section.string('directory', d.directory),
    maxEntities: section.int('max_entities', d.maxEntities, 1),
    maxEvidence: section.int('max_evidence', d.maxEvidence, 1, 1000),
    reportIntervalMs: section.duration('report_interval', d.reportIntervalMs),
    expireAfterMs: section.duration('expire_after', d.expireAfterMs),
    flushIntervalMs: section.duration('flush_interval', d.flushIntervalMs),
    declared: section.string('declared', d.declared),
    cyclonedx: { path: cdx.string('path', d.cyclonedx.path), specVersion: cdx.oneOf('spec_version', SPEC_VERSIONS, d.cyclonedx.specVersion) },
    mcpCommandPatterns: section.stringList('mcp_command_patterns', d.mcpCommandPatterns),
    ignorePaths: section.stringList('ignore_paths', d.ignorePaths),
  };
  cdx.done();
  if (c.reportIntervalMs < 1000) section.error('report_interval', 'must be at least 1s');
  if (c.flushIntervalMs <= 0) section.error('flush_interval', 'must be greater than 0');
  if (c.expireAfterMs !== 0 && c.expireAfterMs < c.reportIntervalMs) section.error('expire_after', `must be 0 (never) or at least report_interval (${c.reportIntervalMs} ms)`);
  return c;
}
