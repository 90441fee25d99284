import { entityId, type Entity, type EntityAttributes, type EntityKey, type EntityKind, type RelationType } from './entity.js';

/** What one span or kernel span says exists. */
export interface Observation {
  kind: EntityKind;
  key: EntityKey;
  name: string;
  attributes?: EntityAttributes;
  /** Unix ms of the span. */
  timeMs: number;
  traceId?: string;
  spanId?: string;
}

export interface InventoryLimits {
  maxEntities: number;
  maxEvidence: number;
  /** Distinct values kept in one list attribute (argv variants, paths under a pattern). */
  maxListValues: number;
  maxRelations: number;
}

/** Why an entity needs reporting: it appeared, or what it is or relates to changed. */
export type Change = 'new' | 'changed';

/**
 * The bounded set of entities, keyed by id. Entities past `maxEntities` are not stored and are counted
 * in `overflow` (never a silent drop); list attributes and relations are bounded per entity too.
 * `dirty` collects ids whose state changed since the caller last took it (entity events, persistence).
 */
export class Inventory {
  private readonly entities = new Map<string, Entity>();
  private dirty = new Map<string, Change>();
  overflow = 0;
  /**
   * Moves whenever an entity's attributes change or entities go: while it stands still, observing an
   * entity again with the attributes it was last observed with changes nothing but its sighting
   * (`seen`), which lets the deriver skip building and merging them for spans that repeat.
   */
  generation = 0;

  constructor(readonly limits: InventoryLimits) {}

  get size(): number {
    return this.entities.size;
  }

  get(id: string): Entity | undefined {
    return this.entities.get(id);
  }

  all(): IterableIterator<Entity> {
    return this.entities.values();
  }

  /** Records an observation; undefined when the inventory is full and this is a new entity. */
  observe(o: Observation): Entity | undefined {
    const id = entityId(o.kind, o.key);
    let e = this.entities.get(id);
    if (!e) {
      if (this.entities.size >= this.limits.maxEntities) {
        this.overflow++;
        return undefined;
      }
      e = {
        id,
        kind: o.kind,
        name: o.name,
        key: { ...o.key },
        attributes: {},
        firstSeenMs: o.timeMs,
        lastSeenMs: o.timeMs,
        count: 0,
        evidence: [],
        relations: [],
        source: 'observed',
      };
      if (o.traceId && o.spanId) e.first = { traceId: o.traceId, spanId: o.spanId };
      this.entities.set(id, e);
      this.dirty.set(id, 'new');
    }
    this.seen(e, o.timeMs, o.traceId);
    if (o.attributes && this.merge(e, o.attributes)) this.mark(id);
    return e;
  }

  /** One more sighting of an entity: count, first/last seen, evidence. */
  seen(e: Entity, timeMs: number, traceId: string | undefined): void {
    e.count++;
    if (timeMs > e.lastSeenMs) e.lastSeenMs = timeMs;
    if (timeMs < e.firstSeenMs) e.firstSeenMs = timeMs;
    // The spans of a trace come together: most sightings are of the trace the entity's evidence ended with.
    const evidence = e.evidence;
    const n = evidence.length;
    if (traceId && (n === 0 || evidence[n - 1] !== traceId) && !evidence.includes(traceId)) {
      if (n < this.limits.maxEvidence) evidence.push(traceId);
      else {
        // Full: the oldest goes and the rest move down in place, as `push` then `shift` would leave
        // them; those two cost a call into C++ (a memmove) per new trace of a busy entity.
        for (let i = 1; i < n; i++) evidence[i - 1] = evidence[i]!;
        evidence[n - 1] = traceId;
      }
    }
  }

  /** False only when `from` has no room for the relation (counted in `overflow`). */
  relate(from: Entity | undefined, type: RelationType, to: Entity | undefined): boolean {
    if (!from || !to || from.id === to.id) return true;
    if (from.relations.some((r) => r.type === type && r.to === to.id)) return true;
    if (from.relations.length >= this.limits.maxRelations) {
      this.overflow++;
      return false;
    }
    from.relations.push({ type, to: to.id });
    this.mark(from.id);
    return true;
  }

  /** Adds facts learnt later (an executable's hash) to an entity that still exists. */
  annotate(id: string, attributes: EntityAttributes): void {
    const e = this.entities.get(id);
    if (e && this.merge(e, attributes)) this.mark(id);
  }

  /** Removes entities not seen since `beforeMs`; returns them (entity.delete). */
  expire(beforeMs: number): Entity[] {
    const gone: Entity[] = [];
    for (const e of this.entities.values()) if (e.lastSeenMs < beforeMs) gone.push(e);
    for (const e of gone) {
      this.entities.delete(e.id);
      this.dirty.delete(e.id);
    }
    if (gone.length > 0) {
      this.generation++;
      const ids = new Set(gone.map((e) => e.id));
      for (const e of this.entities.values()) {
        const kept = e.relations.filter((r) => !ids.has(r.to));
        if (kept.length !== e.relations.length) {
          e.relations = kept;
          this.mark(e.id);
        }
      }
    }
    return gone;
  }

  /** Ids changed since the last call, with why. */
  takeDirty(): Map<string, Change> {
    const d = this.dirty;
    this.dirty = new Map();
    return d;
  }

  /** Restores entities read from the store (no change is reported for them). */
  load(entities: readonly Entity[], overflow: number): void {
    for (const e of entities) this.entities.set(e.id, e);
    this.overflow = overflow;
    this.generation++;
  }

  private mark(id: string): void {
    if (!this.dirty.has(id)) this.dirty.set(id, 'changed');
  }

  /** Scalars are replaced, lists are unioned (bounded); true when something changed. */
  private merge(e: Entity, attrs: EntityAttributes): boolean {
    let changed = false;
    // A scalar replaced by an empty list is no change to report, but still one to the attributes.
    let replaced = false;
    for (const [k, v] of Object.entries(attrs)) {
      const old = e.attributes[k];
      if (Array.isArray(v)) {
        const list = Array.isArray(old) ? old : [];
        for (const item of v) {
          if (list.includes(item) || list.length >= this.limits.maxListValues) continue;
          list.push(item);
          changed = true;
        }
        if (list !== old) replaced = true;
        e.attributes[k] = list;
      } else if (old !== v) {
        e.attributes[k] = v;
        changed = true;
      }
    }
    if (changed || replaced) this.generation++;
    return changed;
  }
}
