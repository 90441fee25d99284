import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import type { Component, CreateSettings, Host } from '../../pipeline/component.js';
import { PermanentError, type Consumers } from '../../pipeline/consumer.js';
import { attr, bigIntToLong } from '../../pipeline/otlp/attributes.js';
import { logsCodec } from '../../pipeline/otlp/index.js';
import type { LogRecord, LogsData, TracesData } from '../../pipeline/otlp/types.js';
import { PendingEmits } from '../../pipeline/pending-emits.js';
import { readEnviron } from '../../pipeline/process-identity.js';
import { readBom, readCycloneDx, type Bom } from './bom-reader.js';
import type { AibomConfig, SpecVersion } from './config.js';
import { toCycloneDx } from './cyclonedx.js';
import { Deriver } from './derive.js';
import { diffBoms, type Finding } from './diff.js';
import { deleteRecord, logsOf, stateRecord } from './entity-events.js';
import { entityId, type Entity, type EntityKind } from './entity.js';
import { Inventory, type Change } from './inventory.js';
import { INSTRUMENTED, SHADOW_ROLE } from './shadow.js';
import { loadInventory, saveInventory, storeFile, writeAtomic } from './store.js';

export const AIBOM_ROUTE = '/v1/aibom';
/** Span ids remembered for kernel spans that arrive after their parent: the newest 32,768 always, up to 65,536 (IdGenerations). */
const MAX_OWNERS = 65_536;
/** Log batches the next hop refused, kept for the next flush. */
const MAX_PENDING = 64;
/** Distinct values kept in one list attribute of an entity. */
const MAX_LIST_VALUES = 32;
const MAX_RELATIONS = 256;
/** Executables hashed at the same time at most (each is a streamed read of the binary). */
const MAX_HASHING = 4;

/**
 * The runtime AI-BOM: derives entities from the spans passing by (agents' spans and the kernel spans
 * correlate made), keeps them bounded and persisted, serves them as CycloneDX on `GET /v1/aibom`,
 * and sends OTel entity events (and, with `declared`, `aibom.finding` records) on the logs signal.
 * Spans and logs pass on unchanged; the work per span is a canonical view and a few map lookups.
 * Events are made on a timer from what changed, never per span.
 */
export class AibomProcessor implements Component, Consumers {
  readonly inventory: Inventory;
  /** This build's version, for the BOM's tool and the events' scope. */
  private readonly version: string;
  private readonly deriver: Deriver;
  private readonly storePath: string;
  private declared: Bom | undefined;
  private readonly reported = new Set<string>();
  private readonly hashing = new Set<string>();
  /** Declared items not observed (continuous mode), listed in the BOM with source `declared`. */
  private declaredOnly: Entity[] = [];
  private timers: NodeJS.Timeout[] = [];
  private host: Host | undefined;
  private readonly pending = new PendingEmits<LogsData>({
    max: MAX_PENDING,
    send: (data) => {
      if (!this.next.logs) throw new PermanentError('aibom is in no logs pipeline, so its entity events have nowhere to go');
      return this.next.logs.consume(data);
    },
    dropped: (data, reason, err) => {
      this.m.dropped.inc({ ...this.labels, signal: 'logs', reason }, logsCodec.count(data));
      if (err) this.settings.logger.warn({ err, reason }, 'entity events were refused');
    },
  });
  private flushing: Promise<void> | undefined;
  private stopped = false;
  private lastReportMs = 0;
  private overflowCounted = 0;
  private readonly labels;
  private readonly m;

  readonly traces = { consume: (data: TracesData) => this.consumeTraces(data) };
  readonly logs = { consume: (data: LogsData) => this.forwardLogs(data) };

  constructor(
    private readonly settings: CreateSettings,
    private readonly config: AibomConfig,
    private readonly next: Consumers,
    private readonly now: () => number = Date.now,
  ) {
    this.version = settings.build?.version ?? '';
    this.inventory = new Inventory({ maxEntities: config.maxEntities, maxEvidence: config.maxEvidence, maxListValues: MAX_LIST_VALUES, maxRelations: MAX_RELATIONS });
    this.deriver = new Deriver(this.inventory, {
      mcpCommandPatterns: config.mcpCommandPatterns,
      ignorePaths: config.ignorePaths,
      environNames: (pid) => readEnviron(pid)?.split('\0').map((kv) => kv.slice(0, kv.indexOf('='))).filter(Boolean),
      maxOwners: MAX_OWNERS,
      hashExecutable: (pid, id) => void this.hashExecutable(pid, id),
    });
    this.storePath = config.directory ? storeFile(config.directory) : '';
    const metrics = settings.metrics;
    this.labels = { component: settings.id };
    this.m = {
      entities: metrics.gauge('aibom_inventory_entities', 'Entities in the AI-BOM inventory.', ['component']),
      overflow: metrics.counter('aibom_inventory_overflow_total', 'Entities or relations not stored because the inventory (or the entity) was full.', ['component']),
      events: metrics.counter('aibom_inventory_entity_events_total', 'OTel entity events sent, by event name.', ['component', 'event']),
      findings: metrics.counter('aibom_inventory_findings_total', 'Declared-vs-observed findings reported as aibom.finding records.', ['component', 'type']),
      errors: metrics.counter('aibom_inventory_errors_total', 'Spans the inventory could not read, or state it could not write, by what failed.', ['component', 'what']),
      dropped: metrics.processorDropped,
    };
  }

  /** Loads the store and the declared BOM: either being unreadable stops start-up with its file name. */
  async start(host: Host): Promise<void> {
    if (this.host || this.stopped) return;
    if (this.storePath) {
      const stored = loadInventory(this.storePath);
      if (stored) {
        this.inventory.load(stored.entities, stored.overflow);
        for (const f of stored.reported ?? []) this.reported.add(f);
        this.settings.logger.info({ file: this.storePath, entities: stored.entities.length }, 'AI-BOM inventory loaded');
      }
    }
    if (this.config.declared) {
      try {
        this.declared = readBom(readFileSync(this.config.declared, 'utf8'), this.config.declared);
      } catch (err) {
        throw new Error(`processors.${this.settings.id}.declared: ${(err as Error).message}`);
      }
    }
    host.admin.register(AIBOM_ROUTE, this.settings.id, (q) => this.serve(q));
    this.host = host;
    this.lastReportMs = this.now();
    const flush = setInterval(() => void this.flush(), this.config.flushIntervalMs);
    flush.unref();
    this.timers.push(flush);
    this.m.entities.set(this.labels, this.inventory.size);
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.flushing;
    if (this.host) await this.flush(true);
    this.host?.admin.unregister(AIBOM_ROUTE, this.settings.id);
  }

  private async consumeTraces(data: TracesData): Promise<void> {
    try {
      this.deriver.consume(data);
    } catch (err) {
      // The inventory is a by-product: a span it cannot read must never stop the span itself.
      this.m.errors.inc({ ...this.labels, what: 'derive' });
      this.settings.logger.warn({ err }, 'could not derive AI-BOM entities from a batch; spans passed on unchanged');
    }
    if (!this.next.traces) throw new PermanentError('aibom has no traces consumer after it');
    await this.next.traces.consume(data);
  }

  private async forwardLogs(data: LogsData): Promise<void> {
    if (!this.next.logs) throw new PermanentError('aibom has no logs consumer after it');
    await this.next.logs.consume(data);
  }

  /**
   * sha256 of what `/proc/<pid>/exe` points at: the very file the process runs, even if the path was
   * replaced since. Streamed, one at a time at most per entity; a process already gone leaves no hash.
   */
  private async hashExecutable(pid: number, id: string): Promise<void> {
    if (this.hashing.has(id) || this.hashing.size >= MAX_HASHING) return;
    this.hashing.add(id);
    try {
      const hash = createHash('sha256');
      for await (const chunk of createReadStream(`/proc/${pid}/exe`)) hash.update(chunk as Buffer);
      this.inventory.annotate(id, { 'aibom-collector:sha256': hash.digest('hex') });
    } catch {
      // gone, or not ours to read (another user, another pid namespace): the entity stays without hash
    } finally {
      this.hashing.delete(id);
    }
  }

  /** The BOM the admin route serves (`?spec=1.6|1.7`). */
  bom(spec: SpecVersion = this.config.cyclonedx.specVersion): Record<string, unknown> {
    return toCycloneDx([...this.inventory.all(), ...this.declaredOnly], { specVersion: spec, toolVersion: this.version });
  }

  private serve(q: URLSearchParams) {
    const spec = q.get('spec') ?? this.config.cyclonedx.specVersion;
    if (spec !== '1.6' && spec !== '1.7') return { status: 400, contentType: 'text/plain', body: `spec must be 1.6 or 1.7, got ${JSON.stringify(spec)}\n` };
    return { status: 200, contentType: 'application/vnd.cyclonedx+json; charset=utf-8', body: `${JSON.stringify(this.bom(spec), null, 2)}\n` };
  }

  /** Turns what changed since the last flush into entity events, findings, the store and the BOM file. */
  flush(final = false): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = this.flushOnce(final).finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async flushOnce(final: boolean): Promise<void> {
    const now = this.now();
    const records: LogRecord[] = [];
    const gone = this.config.expireAfterMs > 0 ? this.inventory.expire(now - this.config.expireAfterMs) : [];
    for (const e of gone) records.push(deleteRecord(e, 'expired', now));
    const dirty = this.inventory.takeDirty();
    const byId = (id: string) => this.inventory.get(id);
    const full = now - this.lastReportMs >= this.config.reportIntervalMs;
    if (full) this.lastReportMs = now;
    const toReport = full ? [...this.inventory.all()] : [...dirty.keys()].map(byId).filter((e) => e !== undefined);
    if (this.declared && (dirty.size > 0 || gone.length > 0)) records.push(...this.findings(now));
    else if (!this.declared) records.push(...this.shadowFindings(dirty, now));
    for (const e of toReport) records.push(stateRecord(e, byId, this.config.reportIntervalMs, now));
    const events = { state: toReport.length, delete: gone.length };
    this.countOverflow();
    this.m.entities.set(this.labels, this.inventory.size);
    // Counts, last-seen times and evidence change without an event; they are saved with the next
    // change, at each report interval and at shutdown.
    if (dirty.size > 0 || gone.length > 0 || final || full) this.persist();
    if (records.length > 0) {
      this.pending.push(logsOf(records, 'aibom-collector', this.version));
      if (events.state) this.m.events.inc({ ...this.labels, event: 'entity.state' }, events.state);
      if (events.delete) this.m.events.inc({ ...this.labels, event: 'entity.delete' }, events.delete);
    }
    await this.pending.flush(final);
  }

  private countOverflow(): void {
    const delta = this.inventory.overflow - this.overflowCounted;
    if (delta > 0) this.m.overflow.inc(this.labels, delta);
    this.overflowCounted = this.inventory.overflow;
  }

  /** New findings against the declared BOM, each once (remembered across restarts). */
  private findings(now: number): LogRecord[] {
    const observed = readCycloneDx(toCycloneDx([...this.inventory.all()], { specVersion: '1.6', toolVersion: this.version }), 'inventory');
    const found = diffBoms(this.declared!, observed);
    const explained = new Set(found.filter((f) => f.type !== 'unobserved').map((f) => `${f.kind}|${f.name}`));
    for (const o of observed.items) {
      const e = o.ref ? this.inventory.get(o.ref) : undefined;
      if (e) e.source = explained.has(`${o.kind}|${o.name}`) ? 'observed' : 'both';
    }
    // Declared and never seen: in the BOM with source `declared`, so it shows the whole picture.
    this.declaredOnly = found.filter((f) => f.type === 'unobserved').map((f) => declaredEntity(f.kind, f.name));
    const out: LogRecord[] = [];
    for (const f of found) {
      const key = `${f.type}|${f.kind}|${f.name}`;
      if (this.reported.has(key)) continue;
      this.reported.add(key);
      this.m.findings.inc({ ...this.labels, type: f.type });
      out.push(findingRecord(f, now));
    }
    return out;
  }

  /**
   * Without a declared BOM nothing is declared, so a workload the sensor found as shadow AI is undeclared
   * the moment it appears: one finding each ("new shadow AI client / model server"), so an alert can fire.
   */
  private shadowFindings(dirty: Map<string, Change>, now: number): LogRecord[] {
    const out: LogRecord[] = [];
    for (const id of dirty.keys()) {
      const e = this.inventory.get(id);
      const role = e?.attributes[SHADOW_ROLE];
      if (!e || typeof role !== 'string') continue;
      const key = `undeclared|${e.kind}|${e.name}`;
      if (this.reported.has(key)) continue;
      this.reported.add(key);
      this.m.findings.inc({ ...this.labels, type: 'undeclared' });
      const detail = `new shadow AI ${role === 'client' ? 'client' : 'model server'}${e.attributes[INSTRUMENTED] === true ? '' : ' (uninstrumented)'}`;
      out.push(findingRecord({ type: 'undeclared', kind: e.kind, name: e.name, detail, evidence: e.evidence, ...(e.first ? { firstSpan: e.first } : {}) }, now));
    }
    return out;
  }

  private persist(): void {
    try {
      if (this.storePath) saveInventory(this.storePath, { entities: [...this.inventory.all()], overflow: this.inventory.overflow, reported: [...this.reported] });
      if (this.config.cyclonedx.path) writeAtomic(this.config.cyclonedx.path, `${JSON.stringify(this.bom(), null, 2)}\n`);
    } catch (err) {
      this.m.errors.inc({ ...this.labels, what: 'write' });
      this.settings.logger.error({ err, file: this.storePath }, 'could not write the AI-BOM inventory; it stays in memory and is written at the next change');
    }
  }
}

function declaredEntity(kind: EntityKind, name: string): Entity {
  const key = { 'aibom.declared.name': name };
  return { id: entityId(kind, key), kind, name, key, attributes: {}, firstSeenMs: 0, lastSeenMs: 0, count: 0, evidence: [], relations: [], source: 'declared' };
}

/** An `aibom.finding` log record, linked to the first trace and span that showed the thing. */
function findingRecord(f: Finding, nowMs: number): LogRecord {
  const time = bigIntToLong(BigInt(nowMs) * 1_000_000n);
  const attributes = [
    attr('aibom.finding.type', f.type),
    attr('aibom.finding.kind', f.kind),
    attr('aibom.finding.name', f.name),
    attr('security_rule.name', `aibom.${f.type}`),
    attr('security_rule.category', 'ai-bom'),
  ];
  if (f.detail) attributes.push(attr('aibom.finding.detail', f.detail));
  if (f.evidence.length > 0) attributes.push(attr('aibom.finding.evidence', f.evidence));
  const record: LogRecord = {
    timeUnixNano: time,
    observedTimeUnixNano: time,
    severityNumber: f.type === 'unobserved' ? 9 : 13,
    severityText: f.type === 'unobserved' ? 'INFO' : 'WARN',
    eventName: 'aibom.finding',
    body: { stringValue: `${f.type} ${f.kind} ${f.name}${f.detail ? `: ${f.detail}` : ''}` },
    attributes,
  };
  if (f.firstSpan) {
    record.traceId = Buffer.from(f.firstSpan.traceId, 'hex');
    record.spanId = Buffer.from(f.firstSpan.spanId, 'hex');
  }
  return record;
}
