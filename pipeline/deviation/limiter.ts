import { BoundedMap } from '../bounded-map.js';
import type { Deviation } from './deviation.js';

export interface LimiterConfig {
  /** The same rule, component and observed value again within this time is counted, not emitted. */
  dedupeWindowMs: number;
  /** Deviations emitted per component and rule at most per minute; the rest are counted. */
  maxPerMinute: number;
  /** Keys remembered; beyond it the oldest are forgotten (bounded memory). */
  maxKeys: number;
}

export const DEFAULT_LIMITER: LimiterConfig = { dedupeWindowMs: 10 * 60_000, maxPerMinute: 30, maxKeys: 16_384 };

/** Why a deviation was not emitted now. */
export type Suppressed = 'duplicate' | 'rate_limited';

export type Verdict = { emit: true; count: number } | { emit: false; reason: Suppressed };

interface Seen {
  lastEmitMs: number;
  /** Suppressed since the last emission: the next emitted one carries them in its count. */
  suppressed: number;
}

interface Bucket {
  windowStartMs: number;
  emitted: number;
}

/**
 * Noise control per component and rule. A repeat of the same deviation (rule, component, observed
 * value or the deviation's own `dedupeKey`) inside the dedupe window is not emitted again, and past `maxPerMinute` a component's rule is
 * quiet until the minute ends; both are counted by the caller (`reason`), and the next deviation
 * emitted for that key carries the suppressed repeats in `aibom.deviation.count`.
 */
export class DeviationLimiter {
  private readonly seen: BoundedMap<string, Seen>;
  private readonly buckets: BoundedMap<string, Bucket>;

  constructor(
    private readonly config: LimiterConfig = DEFAULT_LIMITER,
    private readonly now: () => number = Date.now,
  ) {
    this.seen = new BoundedMap(config.maxKeys);
    this.buckets = new BoundedMap(config.maxKeys);
  }

  check(d: Deviation): Verdict {
    const t = this.now();
    const component = d.component.id || `${d.component.kind}/${d.component.name}`;
    const key = `${d.rule.id}\0${component}\0${d.dedupeKey ?? d.observed}`;
    const s = this.seen.get(key);
    if (s && t - s.lastEmitMs < this.config.dedupeWindowMs) {
      s.suppressed++;
      return { emit: false, reason: 'duplicate' };
    }
    const bucketKey = `${d.rule.id}\0${component}`;
    let b = this.buckets.get(bucketKey);
    if (!b || t - b.windowStartMs >= 60_000) b = remember(this.buckets, bucketKey, { windowStartMs: t, emitted: 0 });
    if (b.emitted >= this.config.maxPerMinute) {
      if (s) s.suppressed++;
      return { emit: false, reason: 'rate_limited' };
    }
    b.emitted++;
    const count = 1 + (s?.suppressed ?? 0);
    remember(this.seen, key, { lastEmitMs: t, suppressed: 0 });
    return { emit: true, count };
  }
}

/** Sets `key` as the newest entry (so the least recently emitted keys go first). */
function remember<V>(map: BoundedMap<string, V>, key: string, value: V): V {
  map.delete(key);
  map.set(key, value);
  return value;
}
