// Test scaffolding for the ebpf receiver: settings with a capturing logger, a collecting (or refusing)
// logs consumer, and flattening of LogsData into (resource, record) rows.

import { Writable } from 'node:stream';
import pino from 'pino';
import type { CreateSettings } from '../../../pipeline/component.js';
import { readConfig as readSection, type EbpfReceiverConfig } from '../config.js';
import { ConfigErrors, Section } from '../../../pipeline/config/section.js';
import { RetryableError, type LogsConsumer } from '../../../pipeline/consumer.js';
import { fromAnyValue, int64ToBigInt } from '../../../pipeline/otlp/attributes.js';
import type { KeyValue, LogRecord, LogsData } from '../../../pipeline/otlp/types.js';
import { Metrics } from '../../../pipeline/telemetry/metrics.js';

export interface LogLine {
  level: number;
  msg: string;
}

export function testSettings(id = 'ebpf'): CreateSettings & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as LogLine);
      cb();
    },
  });
  return { id, name: '', logger: pino({ level: 'info' }, stream), metrics: new Metrics(), lines };
}

/** A config read from YAML-shaped input, failing the test on config errors. */
export function config(raw: Record<string, unknown>): EbpfReceiverConfig {
  const errors = new ConfigErrors();
  const s = new Section(raw, 'receivers.ebpf', errors);
  const c = readSection(s);
  s.done();
  if (!errors.empty) throw new Error(errors.list.join('\n'));
  return c;
}

export interface Row {
  res: Record<string, unknown>;
  attrs: Record<string, unknown>;
  rec: LogRecord;
  time: bigint;
}

const obj = (kvs: KeyValue[] | undefined): Record<string, unknown> =>
  Object.fromEntries((kvs ?? []).map((kv) => [kv.key, fromAnyValue(kv.value)]));

export function rows(batches: readonly LogsData[]): Row[] {
  const out: Row[] = [];
  for (const b of batches)
    for (const rl of b.resourceLogs) {
      const res = obj(rl.resource?.attributes);
      for (const sl of rl.scopeLogs)
        for (const rec of sl.logRecords) out.push({ res, attrs: obj(rec.attributes), rec, time: int64ToBigInt(rec.timeUnixNano) });
    }
  return out;
}

export interface Collector extends LogsConsumer {
  batches: LogsData[];
  rows(): Row[];
  /** Resolves once `pred` holds for some row. */
  waitFor(pred: (r: Row) => boolean, timeoutMs?: number, what?: string): Promise<Row>;
  /** While true, consume rejects with a RetryableError. */
  refuse: boolean;
  attempts: number;
}

export function collector(): Collector {
  const c: Collector = {
    batches: [],
    refuse: false,
    attempts: 0,
    async consume(data) {
      c.attempts++;
      if (c.refuse) throw new RetryableError('test consumer refuses', 5);
      c.batches.push(data);
    },
    rows: () => rows(c.batches),
    async waitFor(pred, timeoutMs = 20_000, what = 'a matching record') {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const hit = c.rows().find(pred);
        if (hit) return hit;
        if (Date.now() > until) throw new Error(`timed out waiting for ${what}; have ${c.rows().length} records`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
  return c;
}
