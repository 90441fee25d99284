import type { Rule } from '../../pipeline/deviation/index.js';
import type { Observation } from './facts.js';
import { Profile, type ProfileSettings } from './profile.js';
import { RULE_OF_FACT, checkAgainstProfile, checkWithoutProfile, learn, type Check, type RuleSettings } from './rules/index.js';

/** Kernel facts an agent's profile also learns from its components (not sizes: those are per tool and destination). */
const SHARED_WITH_AGENT: ReadonlySet<Observation['fact']['type']> = new Set(['executable', 'file', 'credential', 'egress']);

export interface DetectorSettings extends RuleSettings {
  learningDurationMs: number;
  minObservations: number;
  maxProfiles: number;
  profile: ProfileSettings;
}

/** Why a rule that needs a profile said nothing: the profile is still learning, or partial for kernel facts. */
export type QuietReason = 'learning' | 'partial';

export interface DetectorEvents {
  quiet(rule: Rule, reason: QuietReason): void;
  /** A component past `maxProfiles`: not profiled. */
  profileOverflow(): void;
  stateChanged(p: Profile): void;
}

/**
 * Profiles by AI-BOM entity id, and what each observation means for its component's profile:
 * learned while the profile learns, checked once it is ready or frozen. Kernel facts of a partial
 * profile (the process was not watched from its start) are neither learned nor checked: what the
 * profile lacks would read as new.
 */
export class Detector {
  readonly profiles = new Map<string, Profile>();

  constructor(
    private readonly s: DetectorSettings,
    private readonly events: DetectorEvents,
  ) {}

  profile(o: Observation, nowMs: number): Profile | undefined {
    let p = this.profiles.get(o.component.id);
    if (!p) {
      if (this.profiles.size >= this.s.maxProfiles) {
        this.events.profileOverflow();
        return undefined;
      }
      p = new Profile(o.component.id, { kind: o.component.kind, name: o.component.name }, nowMs, this.s.profile);
      this.profiles.set(p.id, p);
    }
    return p;
  }

  observe(o: Observation, nowMs: number): Check[] {
    const found = this.judge(o, nowMs);
    if (!o.agent || !SHARED_WITH_AGENT.has(o.fact.type)) return found;
    // The agent's profile holds every kernel fact of its traces: learn it there too, and what it
    // knows is no deviation for the owner.
    const agent = this.profile({ ...o, component: o.agent }, nowMs);
    if (!agent) return found;
    if (agent.state === 'learning' && found.length === 0) learn(agent, o.fact, this.s);
    const rule = RULE_OF_FACT[o.fact.type];
    if (!found.some((c) => c.rule === rule)) return found;
    const unknownToAgent = checkAgainstProfile(agent, o.fact, this.s).some((c) => c.rule === rule);
    return unknownToAgent ? found : found.filter((c) => c.rule !== rule);
  }

  private judge(o: Observation, nowMs: number): Check[] {
    const p = this.profile(o, nowMs);
    const free = checkWithoutProfile(p, o.fact, this.s);
    if (!p) return free;
    p.observations++;
    p.lastSeenMs = nowMs;
    if (o.kernel && o.partialReason) p.markPartial(o.partialReason);
    if (p.state === 'learning' && nowMs - p.firstSeenMs >= this.s.learningDurationMs && p.observations >= this.s.minObservations) {
      p.setState('ready', nowMs);
      this.events.stateChanged(p);
    }
    if (p.state === 'learning') {
      if (free.length === 0) learn(p, o.fact, this.s);
      this.events.quiet(RULE_OF_FACT[o.fact.type], 'learning');
      return free;
    }
    if (o.kernel && p.completeness === 'partial') {
      this.events.quiet(RULE_OF_FACT[o.fact.type], 'partial');
      return free;
    }
    const found = checkAgainstProfile(p, o.fact, this.s);
    return free.length === 0 ? found : [...free, ...found];
  }

  /** Ends learning now: every profile, or the one with `id` (false when unknown). */
  freeze(nowMs: number, id?: string): string[] | undefined {
    const targets = id ? [this.profiles.get(id)] : [...this.profiles.values()];
    if (targets.some((p) => p === undefined)) return undefined;
    for (const p of targets as Profile[]) {
      if (p.state !== 'frozen') p.setState('frozen', nowMs);
      this.events.stateChanged(p);
    }
    return (targets as Profile[]).map((p) => p.id);
  }

  /** Forgets what `id` learned: it starts learning again from now. */
  reset(id: string, nowMs: number): Profile | undefined {
    const old = this.profiles.get(id);
    if (!old) return undefined;
    const p = new Profile(id, old.component, nowMs, this.s.profile);
    this.profiles.set(id, p);
    this.events.stateChanged(p);
    return p;
  }
}
