import { readFileSync } from 'node:fs';
import { fromAnyValue } from '../../../pipeline/otlp/attributes.js';
import { tracesCodec } from '../../../pipeline/otlp/codec.js';
import type { TracesData } from '../../../pipeline/otlp/types.js';
import { silentLogger } from '../../../pipeline/telemetry/logger.js';
import { PipelineSink } from '../../../pipeline/testdata/pipeline-sink.js';
import { Metrics } from '../../../pipeline/telemetry/metrics.js';
import { createDefaultConfig, type ProvenanceConfig } from '../config.js';
import { ProvenanceProcessor } from '../provenance-processor.js';

/** OTLP JSON lines (one TracesData per line), as tracesCodec.toJson writes them. */
export function readTraces(name: string): TracesData[] {
  return readFileSync(new URL(`./${name}`, import.meta.url), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => tracesCodec.fromJson(l));
}

export class Sink extends PipelineSink {
  /** Every deviation record's attributes, plain. */
  deviations(): Record<string, any>[] {
    return this.records()
      .filter((r) => r.eventName === 'aibom.deviation')
      .map((r) => ({ ...Object.fromEntries((r.attributes ?? []).map((kv) => [kv.key, fromAnyValue(kv.value)])), spanId: Buffer.from(r.spanId ?? []).toString('hex'), traceId: Buffer.from(r.traceId ?? []).toString('hex') }));
  }
}

/** A processor on a manual clock, its sink and metrics. */
export function harness(config: Partial<ProvenanceConfig> = {}) {
  let t = 1_000_000;
  const sink = new Sink();
  const metrics = new Metrics();
  const logged: { level: string; msg: string; obj: unknown }[] = [];
  const logger = Object.assign(silentLogger(), {
    warn: (obj: unknown, msg: string) => void logged.push({ level: 'warn', msg, obj }),
    info: (obj: unknown, msg: string) => void logged.push({ level: 'info', msg, obj }),
  });
  const p = new ProvenanceProcessor({ id: 'provenance', name: '', logger, metrics }, { ...createDefaultConfig(), ...config }, sink.consumers, () => t);
  return {
    p,
    sink,
    metrics,
    logged,
    advance: (ms: number) => void (t += ms),
    /** Feeds batches, lets them settle and evaluates. */
    async run(batches: TracesData[]): Promise<Record<string, any>[]> {
      for (const b of batches) await p.traces.consume(b);
      t += 60_000;
      await p.tick();
      return sink.deviations();
    },
  };
}
