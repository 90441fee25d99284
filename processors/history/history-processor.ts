import type { Component, CreateSettings, Host } from '../../pipeline/component.js';
import { PermanentError, type Consumers } from '../../pipeline/consumer.js';
import type { LogsData } from '../../pipeline/otlp/types.js';
import type { Logger } from '../../pipeline/telemetry/logger.js';
import type { HistoryConfig } from './config.js';
import { entryOf, type HistoryEntry } from './entry.js';
import { HistoryStore, readHistory } from './store.js';

export const HISTORY_ROUTE = '/v1/history';

/**
 * Keeps what the controls concluded (deviations, AI-BOM findings, sensor gaps) in a bounded JSON-lines
 * store under the data directory, for the evidence report (`aibom-collector report`). Every log record
 * passes on unchanged; the history is a side record, so a failed write is counted and logged, never a
 * reason to hold the pipeline.
 */
export class HistoryProcessor implements Component, Consumers {
  private readonly store: HistoryStore | undefined;
  private readonly logger: Logger;
  private readonly labels: { component: string };
  private readonly m;
  private admin: Host['admin'] | undefined;

  constructor(
    private readonly settings: CreateSettings,
    private readonly config: HistoryConfig,
    private readonly next: Consumers,
  ) {
    this.logger = settings.logger;
    this.labels = { component: settings.id };
    this.store = config.path ? new HistoryStore(config.path, config.retentionMs, config.maxEntries) : undefined;
    const metrics = settings.metrics;
    this.m = {
      recorded: metrics.counter('aibom_history_entries_total', 'Deviations, findings and sensor gaps recorded in the history, by kind.', ['component', 'kind']),
      dropped: metrics.counter('aibom_history_dropped_entries_total', 'History entries dropped, by reason: expired (past retention), over_limit (past max_entries, oldest first), write_error.', ['component', 'reason']),
      truncated: metrics.counter('aibom_history_truncated_entries_total', 'Entries stored with their attributes cut to max_entry_bytes.', ['component']),
    };
  }

  async start(host: Host): Promise<void> {
    if (!this.store) return;
    const r = this.store.open(Date.now());
    this.countDrops(r.expired, r.overLimit);
    this.logger.info({ file: this.store.file, entries: r.kept, expired: r.expired, overLimit: r.overLimit }, 'history opened');
    this.admin = host.admin;
    const file = this.store.file;
    host.admin.register(HISTORY_ROUTE, this.settings.id, (q) => {
      const from = q.get('from') ? Date.parse(q.get('from')!) : -Infinity;
      const to = q.get('to') ? Date.parse(q.get('to')!) : Infinity;
      if (Number.isNaN(from) || Number.isNaN(to)) return { status: 400, contentType: 'text/plain; charset=utf-8', body: 'from and to must be ISO 8601 times\n' };
      const entries = readHistory(file).filter((e) => e.timeMs >= from && e.timeMs <= to);
      return { status: 200, contentType: 'application/json; charset=utf-8', body: `${JSON.stringify({ file, entries })}\n` };
    });
  }

  async shutdown(): Promise<void> {
    this.admin?.unregister(HISTORY_ROUTE, this.settings.id);
    this.admin = undefined;
  }

  async consume(data: LogsData): Promise<void> {
    if (this.store) this.record(data);
    if (!this.next.logs) throw new PermanentError('history has no logs consumer after it');
    await this.next.logs.consume(data);
  }

  get logs(): this {
    return this;
  }

  private record(data: LogsData): void {
    const lines: string[] = [];
    const kinds: string[] = [];
    for (const rl of data.resourceLogs) {
      for (const sl of rl.scopeLogs) {
        for (const r of sl.logRecords) {
          const e = entryOf(r, rl.resource?.attributes);
          if (!e) continue;
          lines.push(this.line(e));
          kinds.push(e.kind);
        }
      }
    }
    if (lines.length === 0) return;
    try {
      const r = this.store!.append(lines, Date.now());
      this.countDrops(r.expired, r.overLimit);
      for (const k of kinds) this.m.recorded.inc({ ...this.labels, kind: k });
    } catch (err) {
      this.m.dropped.inc({ ...this.labels, reason: 'write_error' }, lines.length);
      this.logger.error({ err, file: this.store!.file, entries: lines.length }, 'history write failed; the entries are missing from the history (the records themselves went on)');
    }
  }

  /** The entry as one line, its longest attributes cut when it would pass max_entry_bytes. */
  private line(e: HistoryEntry): string {
    const text = JSON.stringify(e);
    if (Buffer.byteLength(text) <= this.config.maxEntryBytes) return text;
    this.m.truncated.inc(this.labels);
    const budget = Math.floor(this.config.maxEntryBytes / (Object.keys(e.attributes).length + 4));
    const cut = (v: unknown): unknown => {
      const s = typeof v === 'string' ? v : JSON.stringify(v);
      return s.length > budget ? `${s.slice(0, Math.max(0, budget - 1))}…` : v;
    };
    return JSON.stringify({ ...e, body: e.body ? String(cut(e.body)) : undefined, attributes: { ...Object.fromEntries(Object.entries(e.attributes).map(([k, v]) => [k, cut(v)])), 'aibom.history.truncated': true } });
  }

  private countDrops(expired: number, overLimit: number): void {
    if (expired > 0) this.m.dropped.inc({ ...this.labels, reason: 'expired' }, expired);
    if (overLimit > 0) this.m.dropped.inc({ ...this.labels, reason: 'over_limit' }, overLimit);
  }
}
