import { describe, expect, test } from 'vitest';
import { ConfigErrors, Section } from '../../pipeline/config/section.js';
import { bigIntToLong } from '../../pipeline/otlp/attributes.js';
import type { Span } from '../../pipeline/otlp/types.js';
import type { CanonicalKind, CanonicalSpan } from '../normalize/index.js';
import { readConfig } from './config.js';
import { SpanIndex, type ResourceFacts } from './span-index.js';
import { random } from './testdata/builders.js';

/** What the index must answer, the way it answered with a list of span objects per pid and trace. */
interface Ref {
  traceId: string;
  spanId: string;
  pid: number;
  startUs: number;
  endUs: number;
  semantic: boolean;
  serverPort: number | undefined;
  arrived: number;
}

const SEMANTIC: ReadonlySet<string> = new Set(['llm', 'tool', 'retriever', 'embedding', 'mcp_client', 'mcp_server']);

function oracle(spans: readonly Ref[], timeUs: number, toleranceUs: number, accept: (s: Ref) => boolean): Ref | undefined {
  const containing = (tol: number) => {
    let best: Ref | undefined;
    for (const s of spans) {
      if (timeUs < s.startUs - tol || timeUs > s.endUs + tol || !accept(s)) continue;
      if (!best || (s.semantic && !best.semantic) || (s.semantic === best.semantic && (s.startUs > best.startUs || (s.startUs === best.startUs && s.endUs < best.endUs)))) best = s;
    }
    return best;
  };
  return containing(0) ?? (toleranceUs > 0 ? containing(toleranceUs) : undefined);
}

const KINDS: (CanonicalKind | undefined)[] = ['llm', 'tool', 'agent', 'chain', 'http', 'mcp_client', undefined];
// Durations of every level of the index and past them, ties, zero and negative ones.
const DURATIONS_US = [0, 1, 40_000, 65_536, 65_537, 200_000, 1_500_000, 4_000_000, 20_000_000, 100_000_000, 600_000_000, -5_000];
const T0_US = 1_790_000_000_000_000;

describe('SpanIndex answers as the linear scan over span objects did', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    test(`random spans, lookups, eviction and growth (seed ${seed})`, () => {
      const rnd = random(seed);
      const pick = <T>(list: readonly T[]) => list[Math.floor(rnd() * list.length)]!;
      const max = seed % 2 ? 1500 : 5000; // past the first columns' size; the odd seeds also wrap the ring at the bound
      const index = new SpanIndex(max);
      let live: Ref[] = [];
      const traces = Array.from({ length: 40 }, (_, i) => Buffer.from((seed * 1000 + i).toString(16).padStart(32, '0'), 'hex'));
      const facts = [1, 2, 3, 0].map((pid): ResourceFacts => ({ pid, serviceName: `svc-${pid}` }));
      let arrived = 0;
      for (let n = 0; n < 6000; n++) {
        const trace = pick(traces);
        const odd = rnd() < 0.02;
        const spanId = Buffer.from(Math.floor(rnd() * 3000).toString(16).padStart(16, '0'), 'hex'); // some ids repeat
        const traceId = odd ? trace.subarray(0, 5) : trace;
        const startUs = T0_US + Math.floor(rnd() * 60) * 1_000_000 + pick([0, 0, 500, 123_456]);
        const endUs = startUs + pick(DURATIONS_US);
        const kind = pick(KINDS);
        const serverPort = kind && rnd() < 0.3 ? pick([443, 8080]) : undefined; // a span no convention recognises has no view
        const f = pick(facts);
        const span: Span = { traceId, spanId, name: 'x', startTimeUnixNano: bigIntToLong(BigInt(startUs) * 1000n + 7n), endTimeUnixNano: bigIntToLong(BigInt(endUs) * 1000n) };
        const view = kind ? ({ kind, serverPort } as CanonicalSpan) : undefined;
        arrived += 1;
        index.add(span, view, f, arrived);
        const ref: Ref = { traceId: traceId.toString('hex'), spanId: spanId.toString('hex'), pid: f.pid, startUs, endUs, semantic: kind !== undefined && SEMANTIC.has(kind), serverPort, arrived };
        if (!live.some((s) => s.traceId === ref.traceId && s.spanId === ref.spanId)) {
          live.push(ref);
          if (live.length > max) live.shift();
        }
        if (n % 500 === 499) {
          const before = arrived - Math.floor(rnd() * 1500);
          expect(index.evict(before)).toBe(live.filter((s) => s.arrived < before).length);
          live = live.filter((s) => s.arrived >= before);
        }
        if (n % 50 === 0) check(index, live, rnd, pick);
      }
      expect(index.size).toBe(live.length);
    });
  }

  for (const seed of [6, 7, 8]) {
    test(`a request's spans indexed at once (addAll) are found by id, pid + time and trace as one by one (seed ${seed})`, () => {
      const rnd = random(seed);
      const pick = <T>(list: readonly T[]) => list[Math.floor(rnd() * list.length)]!;
      const max = seed % 2 ? 1500 : 5000;
      const index = new SpanIndex(max);
      let live: Ref[] = [];
      const traces = Array.from({ length: 40 }, (_, i) => Buffer.from((seed * 1000 + i).toString(16).padStart(32, '0'), 'hex'));
      const facts = [1, 2, 3, 0].map((pid): ResourceFacts => ({ pid, serviceName: `svc-${pid}` }));
      const covered = { from: 0, to: 0 };
      let arrived = 0;
      for (let n = 0; n < 6000; ) {
        // Requests of up to 3 chunks (64 spans each) and past, some spans repeated within the request.
        const size = pick([1, 2, 63, 64, 65, 100, 150, 200]);
        const f = pick(facts);
        arrived += 1;
        const batch: Span[] = [];
        const views: (CanonicalSpan | undefined)[] = [];
        const refs: Ref[] = [];
        for (let k = 0; k < size; k++, n++) {
          if (k > 0 && rnd() < 0.05) {
            const j = Math.floor(rnd() * k);
            batch.push(batch[j]!);
            views.push(views[j]);
            refs.push(refs[j]!);
            continue;
          }
          const trace = pick(traces);
          const odd = rnd() < 0.02;
          const spanId = Buffer.from(Math.floor(rnd() * 3000).toString(16).padStart(16, '0'), 'hex');
          const traceId = odd ? trace.subarray(0, 5) : trace;
          const startUs = T0_US + Math.floor(rnd() * 60) * 1_000_000 + pick([0, 0, 500, 123_456]);
          const endUs = startUs + pick(DURATIONS_US);
          const kind = pick(KINDS);
          const serverPort = kind && rnd() < 0.3 ? pick([443, 8080]) : undefined;
          batch.push({ traceId, spanId, name: 'x', startTimeUnixNano: bigIntToLong(BigInt(startUs) * 1000n + 7n), endTimeUnixNano: bigIntToLong(BigInt(endUs) * 1000n) });
          views.push(kind ? ({ kind, serverPort } as CanonicalSpan) : undefined);
          refs.push({ traceId: traceId.toString('hex'), spanId: spanId.toString('hex'), pid: f.pid, startUs, endUs, semantic: kind !== undefined && SEMANTIC.has(kind), serverPort, arrived });
        }
        index.addAll(batch, views, f, arrived, covered);
        let from = Infinity;
        let to = -Infinity;
        for (const ref of refs) {
          if (live.some((s) => s.traceId === ref.traceId && s.spanId === ref.spanId)) continue; // indexed before: ignored
          live.push(ref);
          if (live.length > max) live.shift();
          from = Math.min(from, ref.startUs);
          to = Math.max(to, ref.endUs);
        }
        expect(covered).toEqual({ from, to });
        if (rnd() < 0.1) {
          const before = arrived - Math.floor(rnd() * 20);
          expect(index.evict(before)).toBe(live.filter((s) => s.arrived < before).length);
          live = live.filter((s) => s.arrived >= before);
        }
        expect(index.size).toBe(live.length);
        // Every span indexed is found by its ids (the traceparent key), and the lookups answer as the scan over the live spans.
        for (const ref of live.slice(-size)) if (ref.traceId.length === 32) expect(idsOf(index, index.get(ref.traceId, ref.spanId))).toEqual({ traceId: ref.traceId, spanId: ref.spanId });
        check(index, live, rnd, pick);
      }
    });
  }

  function check(index: SpanIndex, live: readonly Ref[], rnd: () => number, pick: <T>(list: readonly T[]) => T): void {
    for (let q = 0; q < 30; q++) {
      const t = T0_US + Math.floor(rnd() * 70_000_000) - 5_000_000;
      const tol = pick([0, 10_000, 1_000_000]);
      const pid = pick([1, 2, 3, 0, 9]);
      const port = pick([443, 8080, undefined]);
      const byPid = index.innermostOfPid(pid, t, tol, port === undefined ? undefined : (r) => index.serverPort(r) === port);
      const want = oracle(live.filter((s) => s.pid && s.pid === pid), t, tol, (s) => port === undefined || s.serverPort === port);
      const got = byPid === -1 ? undefined : idsOf(index, byPid);
      expect(got).toEqual(want && { traceId: want.traceId, spanId: want.spanId });
      const named = pick(live.length ? live : [undefined]);
      if (!named) continue;
      const row = index.get(named.traceId, named.spanId);
      if (named.traceId.length !== 32) {
        expect(row).toBe(-1); // a traceparent names only W3C-sized ids
        continue;
      }
      expect(idsOf(index, row)).toEqual({ traceId: named.traceId, spanId: named.spanId });
      const op = index.innermostOfTrace(row, t, tol, (r) => index.pid(r) === named.pid || !named.pid || !index.pid(r));
      const wantOp = oracle(live.filter((s) => s.traceId === named.traceId), t, tol, (s) => s.semantic && (s.pid === named.pid || !named.pid || !s.pid));
      expect(op === -1 ? undefined : idsOf(index, op)).toEqual(wantOp && { traceId: wantOp.traceId, spanId: wantOp.spanId });
    }
  }

  const idsOf = (index: SpanIndex, row: number) => {
    const { traceId, spanId } = index.ref(row);
    return { traceId, spanId };
  };

});

test('clock_skew_tolerance: at most 1s (the index looks only at spans that could contain the time give or take it)', () => {
  const errorsOf = (raw: unknown) => {
    const errors = new ConfigErrors();
    const section = new Section(raw, 'correlate', errors);
    readConfig(section);
    section.done();
    return errors.list;
  };
  expect(errorsOf({ clock_skew_tolerance: '1s' })).toEqual([]);
  expect(errorsOf({ clock_skew_tolerance: '2s' })).toEqual(['correlate.clock_skew_tolerance: must be at most 1000 ms']);
});
