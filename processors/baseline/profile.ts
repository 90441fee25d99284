import { FileSet } from './file-set.js';
import { SizeStats } from './robust-stats.js';

/** learning: facts are added; ready: learning ended by time and observations; frozen: ended by a person (or a reviewed file). */
export type ProfileState = 'learning' | 'ready' | 'frozen';
export type Completeness = 'complete' | 'partial';

/** AI-BOM entity kinds that have a profile. */
export type ProfiledKind = 'agent' | 'tool' | 'mcp_server' | 'model';

/** Plain lists of a profile: what the component did, each value as observed (or a pattern). */
export const LIST_FACTS = ['executables', 'credentials', 'egress', 'tools', 'mcpTools', 'models', 'modelVersions'] as const;
export type ListFact = (typeof LIST_FACTS)[number];

/** The shape of one tool argument. `values` is dropped (null) once it has more than low_cardinality_max distinct values. */
export interface ArgShape {
  /** Calls that carried it. */
  count: number;
  types: Set<string>;
  lengths: SizeStats;
  values: Set<string> | null;
  range?: { min: number; max: number };
}

export interface ProfileSettings {
  collapseThreshold: number;
  isSensitive: (path: string) => boolean;
  maxFactsPerList: number;
  maxSamples: number;
  /** Size statistics (arguments + destinations) per profile. */
  maxStatistics: number;
}

/** A profile as a file: the export/import format, and the store's. */
export interface ProfileDoc {
  format: typeof PROFILE_FORMAT;
  version: 1;
  id: string;
  component: { kind: ProfiledKind; name: string };
  state: ProfileState;
  completeness: Completeness;
  partialReason?: string;
  observations: number;
  firstSeen: string;
  lastSeen: string;
  stateSince: string;
  /** Facts not kept because a list was full (the profile is then partial). */
  overflow: number;
  facts: {
    executables: string[];
    files: string[];
    credentials: string[];
    egress: string[];
    tools: string[];
    mcpTools: string[];
    models: string[];
    modelVersions: string[];
    arguments: Record<string, { count: number; types: string[]; lengths: number[]; values: string[] | null; range?: { min: number; max: number } }>;
    payloads: Record<string, number[]>;
  };
}

export const PROFILE_FORMAT = 'aibom-collector/baseline-profile';

/**
 * What one component (an AI-BOM entity: agent, tool, MCP server, model) was seen doing while it
 * learned. Every list is bounded (`maxFactsPerList`; a full list marks the profile partial, reason
 * `facts_overflow`), and so are the size statistics (`maxStatistics`, `maxSamples` samples each).
 */
export class Profile {
  state: ProfileState = 'learning';
  completeness: Completeness = 'complete';
  partialReason: string | undefined;
  observations = 0;
  firstSeenMs: number;
  lastSeenMs: number;
  stateSinceMs: number;
  overflow = 0;
  readonly lists: Record<ListFact, Set<string>>;
  files: FileSet;
  readonly args = new Map<string, ArgShape>();
  readonly payloads = new Map<string, SizeStats>();
  /** Changed since it was last written. */
  dirty = true;

  constructor(
    readonly id: string,
    readonly component: { kind: ProfiledKind; name: string },
    nowMs: number,
    readonly settings: ProfileSettings,
  ) {
    this.firstSeenMs = this.lastSeenMs = this.stateSinceMs = nowMs;
    this.lists = Object.fromEntries(LIST_FACTS.map((k) => [k, new Set<string>()])) as Record<ListFact, Set<string>>;
    this.files = new FileSet([], settings.collapseThreshold, settings.isSensitive);
  }

  /** Detection runs on it: learning has ended. */
  get detecting(): boolean {
    return this.state !== 'learning';
  }

  markPartial(reason: string): void {
    if (this.completeness === 'partial') return;
    this.completeness = 'partial';
    this.partialReason = reason;
    this.dirty = true;
  }

  setState(state: ProfileState, nowMs: number): void {
    this.state = state;
    this.stateSinceMs = nowMs;
    this.dirty = true;
  }

  /** Adds a value to a list; a full list is counted and makes the profile partial. */
  learnValue(list: ListFact, value: string): void {
    const set = this.lists[list];
    if (set.has(value)) return;
    if (set.size >= this.settings.maxFactsPerList) return this.full();
    set.add(value);
    this.dirty = true;
  }

  learnFile(path: string): void {
    if (this.files.has(path)) return;
    if (!this.files.add(path, this.settings.maxFactsPerList)) return this.full();
    this.dirty = true;
  }

  argShape(key: string): ArgShape | undefined {
    return this.args.get(key);
  }

  learnArgument(key: string, type: string, length: number, value: string | undefined, num: number | undefined, lowCardinalityMax: number): void {
    let a = this.args.get(key);
    if (!a) {
      if (this.args.size + this.payloads.size >= this.settings.maxStatistics) return this.full();
      a = { count: 0, types: new Set(), lengths: new SizeStats([], this.settings.maxSamples), values: new Set() };
      this.args.set(key, a);
    }
    a.count++;
    a.types.add(type);
    a.lengths.add(length);
    if (a.values && value !== undefined) {
      a.values.add(value);
      if (a.values.size > lowCardinalityMax) a.values = null;
    }
    if (num !== undefined) a.range = a.range ? { min: Math.min(a.range.min, num), max: Math.max(a.range.max, num) } : { min: num, max: num };
    this.dirty = true;
  }

  learnPayload(destination: string, bytes: number): void {
    let s = this.payloads.get(destination);
    if (!s) {
      if (this.args.size + this.payloads.size >= this.settings.maxStatistics) return this.full();
      s = new SizeStats([], this.settings.maxSamples);
      this.payloads.set(destination, s);
    }
    s.add(bytes);
    this.dirty = true;
  }

  private full(): void {
    this.overflow++;
    this.markPartial('facts_overflow');
  }

  toDoc(): ProfileDoc {
    const iso = (ms: number) => new Date(ms).toISOString();
    const sorted = (s: Set<string>) => [...s].sort();
    return {
      format: PROFILE_FORMAT,
      version: 1,
      id: this.id,
      component: this.component,
      state: this.state,
      completeness: this.completeness,
      ...(this.partialReason ? { partialReason: this.partialReason } : {}),
      observations: this.observations,
      firstSeen: iso(this.firstSeenMs),
      lastSeen: iso(this.lastSeenMs),
      stateSince: iso(this.stateSinceMs),
      overflow: this.overflow,
      facts: {
        executables: sorted(this.lists.executables),
        files: this.files.toJSON(),
        credentials: sorted(this.lists.credentials),
        egress: sorted(this.lists.egress),
        tools: sorted(this.lists.tools),
        mcpTools: sorted(this.lists.mcpTools),
        models: sorted(this.lists.models),
        modelVersions: sorted(this.lists.modelVersions),
        arguments: Object.fromEntries(
          [...this.args].map(([k, a]) => [k, { count: a.count, types: sorted(a.types), lengths: [...a.lengths.samples], values: a.values ? sorted(a.values) : null, ...(a.range ? { range: a.range } : {}) }]),
        ),
        payloads: Object.fromEntries([...this.payloads].map(([k, s]) => [k, [...s.samples]])),
      },
    };
  }

  static fromDoc(d: ProfileDoc, settings: ProfileSettings): Profile {
    const p = new Profile(d.id, d.component, Date.parse(d.firstSeen), settings);
    p.state = d.state;
    p.completeness = d.completeness;
    p.partialReason = d.partialReason;
    p.observations = d.observations;
    p.lastSeenMs = Date.parse(d.lastSeen);
    p.stateSinceMs = Date.parse(d.stateSince);
    p.overflow = d.overflow;
    for (const k of LIST_FACTS) for (const v of d.facts[k]) p.lists[k].add(v);
    p.files = new FileSet(d.facts.files, settings.collapseThreshold, settings.isSensitive);
    for (const [k, a] of Object.entries(d.facts.arguments)) {
      p.args.set(k, { count: a.count, types: new Set(a.types), lengths: new SizeStats([...a.lengths], settings.maxSamples), values: a.values ? new Set(a.values) : null, ...(a.range ? { range: a.range } : {}) });
    }
    for (const [k, s] of Object.entries(d.facts.payloads)) p.payloads.set(k, new SizeStats([...s], settings.maxSamples));
    p.dirty = false;
    return p;
  }
}
