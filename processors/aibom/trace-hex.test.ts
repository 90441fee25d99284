import { describe, expect, it } from 'vitest';
import { attr, bigIntToLong } from '../../pipeline/otlp/attributes.js';
import { tracesCodec } from '../../pipeline/otlp/codec.js';
import { spanIds } from '../../pipeline/otlp/span-view.js';
import type { Span, TracesData } from '../../pipeline/otlp/types.js';
import { Deriver } from './derive.js';
import { Inventory } from './inventory.js';
import { TraceHex } from '../../pipeline/otlp/trace-hex.js';

// The trace id a span's sighting records is made hex once per run of spans of one trace: whatever the
// order of traces, received or decoded, it must be the span's own trace id, and the evidence what it was.

/** Trace ids that share all but their last byte (as the load generator's do) or differ in the first. */
const TRACES = ['0a0b0c0d0e0f10111213141516171801', '0a0b0c0d0e0f10111213141516171802', 'ff0b0c0d0e0f10111213141516171801', '0a0b0c0d0e0f10111213141516171801'.replace('0a', '1a')];
let n = 0;
function llm(trace: string | Buffer): Span {
  n++;
  return {
    traceId: typeof trace === 'string' ? Buffer.from(trace, 'hex') : trace,
    spanId: Buffer.from(n.toString(16).padStart(16, '0'), 'hex'),
    parentSpanId: Buffer.alloc(0),
    name: 'chat',
    kind: 3,
    startTimeUnixNano: bigIntToLong(BigInt(1_790_000_000_000 + n) * 1_000_000n),
    endTimeUnixNano: bigIntToLong(BigInt(1_790_000_000_000 + n) * 1_000_000n),
    attributes: [attr('gen_ai.operation.name', 'chat'), attr('gen_ai.provider.name', 'openai'), attr('gen_ai.request.model', 'gpt-4o')],
  };
}
const request = (spans: Span[]): TracesData => ({ resourceSpans: [{ resource: { attributes: [attr('service.name', 'support-agent')] }, scopeSpans: [{ scope: { name: 'x' }, spans }] }] });
const received = (data: TracesData): TracesData => tracesCodec.decodeReceived(Buffer.from(tracesCodec.encode(data)));
const spansOf = (d: TracesData) => d.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));

/** Evidence as a list that keeps the last `max` distinct ids, oldest first, would (inventory.ts `seen`). */
function evidenceOf(traces: readonly string[], max: number): string[] {
  const out: string[] = [];
  for (const t of traces) {
    if (out.includes(t)) continue;
    out.push(t);
    if (out.length > max) out.shift();
  }
  return out;
}

describe('aibom: trace ids of sightings', () => {
  it('TraceHex gives spanIds(span).traceId for received and decoded spans in any order of traces, and ids that are no 16 bytes', () => {
    const th = new TraceHex();
    const odd = [Buffer.alloc(0), Buffer.from('0a0b0c0d0e0f1011', 'hex'), Buffer.from(`${TRACES[0]}00`, 'hex')];
    const order = [0, 0, 1, 0, 2, 2, 3, 1, 1, 0, 3];
    const objects = [...order.map((i) => llm(TRACES[i]!)), ...odd.map((b) => llm(b)), llm(TRACES[0]!)];
    for (const spans of [objects, spansOf(received(request(objects)))]) {
      for (const s of spans) expect(th.of(s)).toBe(spanIds(s).traceId);
    }
  });

  it('evidence of received spans of interleaved traces is the last distinct trace ids, oldest first, and the count every span', () => {
    const order = [0, 0, 1, 0, 2, 1, 3, 3, 0, 2, 1, 1];
    for (const max of [2, 3, 16]) {
      const inventory = new Inventory({ maxEntities: 100, maxEvidence: max, maxListValues: 10, maxRelations: 20 });
      const deriver = new Deriver(inventory, { mcpCommandPatterns: [], ignorePaths: [], environNames: () => undefined, maxOwners: 100, hashExecutable: () => {} });
      // Two requests: the first span of the second is of the trace the first ended with.
      const first = order.slice(0, 6).map((i) => llm(TRACES[i]!));
      deriver.consume(received(request(first)));
      deriver.consume(received(request(order.slice(5).map((i) => llm(TRACES[i]!)))));
      const model = [...inventory.all()].find((e) => e.kind === 'model')!;
      expect(model.count).toBe(order.length + 1);
      expect(model.evidence).toEqual(evidenceOf([...order.slice(0, 6), ...order.slice(5)].map((i) => TRACES[i]!), max));
      expect(model.first).toEqual({ traceId: TRACES[order[0]!], spanId: spanIds(first[0]!).spanId });
    }
  });
});
