import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { Component, ProcessorFactory } from '../../pipeline/component.js';
import type { Consumers } from '../../pipeline/consumer.js';
import { createHost } from '../../pipeline/host.js';
import { tracesCodec } from '../../pipeline/otlp/codec.js';
import type { Span, TracesData } from '../../pipeline/otlp/types.js';
import { silentLogger } from '../../pipeline/telemetry/logger.js';
import { Metrics } from '../../pipeline/telemetry/metrics.js';
import { aibomProcessorFactory } from '../aibom/index.js';
import { baselineProcessorFactory } from '../baseline/index.js';
import { correlateProcessorFactory } from '../correlate/index.js';
import { provenanceProcessorFactory } from '../provenance/index.js';
import type { CanonicalSpan } from './canonical.js';
import { normalizeProcessorFactory } from './index.js';

/**
 * The canonical view of a span is one object shared by every processor that reads the span, and it
 * is not frozen (a runtime call per span): what keeps it unchanged is its `Readonly` type and this
 * test, which runs the default pipeline's processors that read views (normalize, correlate, aibom,
 * baseline, provenance) on views that refuse and record every write.
 */
const record = vi.hoisted(() => ({ writes: [] as string[], readers: new WeakMap<object, number>() }));

vi.mock('./canonical.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('./canonical.js')>();
  const guarded = new WeakMap<Readonly<CanonicalSpan>, Readonly<CanonicalSpan>>();
  const refuse = (what: string) => (_t: object, key: unknown) => {
    record.writes.push(`${what} ${String(key)}`);
    return false;
  };
  const guard = (view: Readonly<CanonicalSpan>): Readonly<CanonicalSpan> => {
    let g = guarded.get(view);
    if (!g) {
      g = new Proxy<Readonly<CanonicalSpan>>(view, { set: refuse('set'), defineProperty: refuse('define'), deleteProperty: refuse('delete'), setPrototypeOf: refuse('prototype') });
      guarded.set(view, g);
    }
    return g;
  };
  return {
    ...real,
    canonicalView(span: Span) {
      record.readers.set(span, (record.readers.get(span) ?? 0) + 1);
      const view = real.canonicalView(span);
      return view && guard(view);
    },
  };
});

const FILES = ['gen-ai-semconv.json', 'langsmith-otel.json', 'mcp-semconv.json', 'openinference-langchain-js.json', 'openinference-semconv.json', 'openllmetry-langchain-py.json', 'openllmetry-legacy.json'];
const bytesOf = (name: string) => Buffer.from(tracesCodec.encode(tracesCodec.fromJson(readFileSync(new URL(`./testdata/${name}`, import.meta.url), 'utf8'))));
const spansOf = (d: TracesData): Span[] => d.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));

describe('processors reading the shared canonical view', () => {
  const metrics = new Metrics();
  const built: Component[] = [];
  let head: Consumers = { traces: { consume: async () => {} } };
  for (const f of [provenanceProcessorFactory, baselineProcessorFactory, aibomProcessorFactory, correlateProcessorFactory, normalizeProcessorFactory] as ProcessorFactory[]) {
    const p = f.create({ id: f.type, name: '', logger: silentLogger(), metrics }, f.createDefaultConfig(), head);
    built.push(p);
    head = p;
  }
  afterAll(async () => {
    for (const p of built.reverse()) await p.shutdown();
  });

  it('the guard records a write (what the test relies on)', async () => {
    const { canonicalView } = await import('./canonical.js');
    const view = canonicalView(spansOf(tracesCodec.decodeReceived(bytesOf(FILES[0]!)))[0]!) as CanonicalSpan;
    expect(() => {
      view.modelName = 'x';
    }).toThrow(TypeError);
    expect(record.writes).toEqual(['set modelName']);
    record.writes.length = 0;
  });

  it('none writes to a view: received spans (one view kept for all) and decoded ones', async () => {
    const host = createHost();
    for (const p of built) await p.start(host);
    let spans = 0;
    let readByAll = 0;
    for (let round = 0; round < 3; round++) {
      for (const name of FILES) {
        for (const data of [tracesCodec.decodeReceived(bytesOf(name)), tracesCodec.decode(bytesOf(name))]) {
          await head.traces!.consume(data);
          for (const s of spansOf(data)) {
            spans++;
            // normalize, correlate, aibom, baseline and provenance each read it.
            if ((record.readers.get(s) ?? 0) >= 5) readByAll++;
          }
        }
      }
    }
    expect(record.writes).toEqual([]);
    expect(spans).toBeGreaterThan(50);
    expect(readByAll).toBeGreaterThan(spans / 2);
  });
});
