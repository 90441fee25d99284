import Long from 'long';
import { describe, expect, test } from 'vitest';
import type { Consumers } from '../../pipeline/consumer.js';
import { attrs, type AttributeValue } from '../../pipeline/otlp/attributes.js';
import type { AnyValue, KeyValue, LogsData, TracesData } from '../../pipeline/otlp/types.js';
import { markKernelRecord, writeKernelEvent } from '../../pipeline/kernel-event/index.js';
import { DecodedEvent } from '../../receiver/ebpf/decoded-event.js';
import { ATTR, KERNEL_SCOPE, type KernelEventKind } from '../../pipeline/semconv.js';
import { silentLogger } from '../../pipeline/telemetry/logger.js';
import { Metrics } from '../../pipeline/telemetry/metrics.js';
import { createDefaultConfig, type CorrelateConfig } from './config.js';
import { CorrelateProcessor } from './correlate-processor.js';
import { OpenRun, type HeldEvents } from './kernel-event.js';
import { random, replay, spans, T0, type ProcessFacts, type SpanSpec } from './testdata/builders.js';

/**
 * Consecutive plumbing opens of a process are held as one run (OpenRun), looked up once while no span
 * edge of the process or an ancestor falls among their times, split where their placement differs, cut
 * by the memory bound and by activity roots' window buckets. That must export exactly what holding
 * and placing every open alone exports: the same random agents, children, spans and batches of opens
 * (runs of module loads, libraries, probes, /proc reads, repeats of one path, credential reads, opens
 * a few hundred ns apart, out of order, and gaps on both sides of the run bound, next to span edges)
 * go to a processor grouping runs and to one holding every event alone; every span they export (ids
 * relabelled in order of appearance: they are random), with its resource, every attribute and the
 * round it was made in, and every count in the metrics must be the same.
 */
const ROOTS = ['/app/node_modules', '/opt/mcp/node_modules'];
const SITE = '/srv/.venv/lib/python3.11/site-packages';
/** A run of one family: the paths its opens take (module loads under a root, libraries, probes...). */
type Family = (i: number, pick: <T>(xs: readonly T[]) => T) => { path: string; enoent?: boolean; credential?: boolean };
const FAMILIES: Family[] = [
  (i, pick) => ({ path: `${pick(ROOTS)}/pkg-${i % 7}/lib/f${i}.js` }),
  (i) => ({ path: `${ROOTS[0]}/pkg-${i % 3}/index.js` }),
  (i) => ({ path: `${SITE}/mod_${i % 9}/__init__.py` }),
  (i) => ({ path: `/usr/lib/x86_64-linux-gnu/lib${i % 5}.so.1` }),
  (i) => ({ path: `/app/src/missing-${i % 11}.json`, enoent: true }),
  () => ({ path: '/proc/self/stat' }),
  () => ({ path: '/dev/null' }),
  (i) => ({ path: `/usr/share/zoneinfo/Zone${i % 2}` }),
];
/** What breaks a run: opens and events that are not plumbing. */
const OTHERS: { kind: KernelEventKind; attributes: Record<string, AttributeValue> }[] = [
  { kind: 'open', attributes: { [ATTR.filePath]: '/data/kb/faq.md' } },
  { kind: 'open', attributes: { [ATTR.filePath]: '/home/u/.aws/credentials', [ATTR.identityCredential]: true } },
  { kind: 'open', attributes: { [ATTR.filePath]: `${ROOTS[0]}/pkg-1/index.js`, [ATTR.identityCredential]: true } },
  { kind: 'connect', attributes: { [ATTR.networkPeerAddress]: '127.0.0.1', [ATTR.networkPeerPort]: 8080 } },
];
/** Gaps between consecutive opens of a run (ms): a few hundred ns (the same µs), around the run bound, backwards. */
const GAPS = [0, 0.0004, 0.0004, 0.3, 1, 3, 4.999, 5, 5.001, 8, -0.5, -0.0003];
/** Activity roots are per window bucket: a bucket of the default 30 s window starts at T0 + 10 s. */
const BUCKET_EDGE_MS = 10_000;

interface KernelSpec {
  kind: KernelEventKind;
  ms: number;
  attributes: Record<string, AttributeValue>;
}

interface Action {
  at: number;
  logs?: { proc: ProcessFacts; events: KernelSpec[] };
  traces?: TracesData;
}

/**
 * Records at ns precision (two opens may share a µs): marked records with their attributes, or
 * (`written`) opens as receiver/ebpf writes them, a DecodedEvent behind each, which a run holds as
 * columns (HeldRecords) and makes again for a span of one path.
 */
function kernelEvents(proc: ProcessFacts, events: KernelSpec[], written: boolean): LogsData {
  const resource = { attributes: attrs({ [ATTR.serviceName]: `unknown_service:${proc.comm}`, [ATTR.processPid]: proc.pid, [ATTR.processParentPid]: proc.ppid, [ATTR.processExecutableName]: proc.comm }) };
  const observed = Long.fromString((T0 * 1_000_000n + 7n).toString(), true);
  const logRecords = events.map((e) => {
    const ns = T0 * 1_000_000n + BigInt(Math.round(e.ms * 1e6));
    if (written && e.kind === 'open') return writtenOpen(proc, e.attributes, ns, observed);
    return markKernelRecord({ timeUnixNano: Long.fromString(ns.toString(), true), eventName: `aibom.kernel.${e.kind}`, severityNumber: 9, attributes: attrs(e.attributes) });
  });
  return { resourceLogs: [{ resource, scopeLogs: [{ scope: { name: KERNEL_SCOPE }, logRecords }] }] };
}

/** An open as receiver/ebpf's converter writes it (convert.ts), its facts from the spec's attributes. */
function writtenOpen(proc: ProcessFacts, a: Record<string, AttributeValue>, ns: bigint, observed: Long) {
  const seq = a[ATTR.kernelSeq] as number;
  const ev = DecodedEvent.of({
    kind: 'open',
    seq,
    ktimeNs: ns - 1_700_000_000_000_000_000n + BigInt(seq % 7),
    timeUnixNano: ns,
    pid: proc.pid,
    tid: a[ATTR.threadId] as number,
    ppid: proc.ppid,
    uid: seq % 11 === 0 ? 0 : 1000,
    cgroupId: 0x1_0000_0042n,
    comm: proc.comm,
    flags: 0,
    repeat: ((a[ATTR.kernelRepeat] as number | undefined) ?? 1) - 1,
    truncated: seq % 13 === 0,
    path: a[ATTR.filePath] as string,
    openFlags: seq % 5 === 0 ? 0o2000000 : 0,
    mode: seq % 9 === 0 ? 0o644 : 0,
    ret: a[ATTR.errorType] === 'ENOENT' ? -2 : seq % 17 === 0 ? -13 : 3 + (seq % 40),
    credential: a[ATTR.identityCredential] === true,
  });
  ev.target = ev.path;
  return writeKernelEvent('open', Long.fromBits(ev.timeLow, ev.timeHigh, true), observed, ev);
}

function scenario(seed: number): Action[] {
  const rnd = random(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const agents: ProcessFacts[] = [100, 101].map((pid) => ({ pid, ppid: 1, comm: 'node' }));
  const children: ProcessFacts[] = agents.map((a, i) => ({ pid: 200 + i, ppid: a.pid, comm: 'python3' }));
  const grandchild: ProcessFacts = { pid: 250, ppid: 200, comm: 'sh' };
  const loner: ProcessFacts = { pid: 300, ppid: 0, comm: 'cron' };
  const actions: Action[] = [];
  const edges: number[] = [];
  // What differs between events of one path, so a span of one path shows whose attributes it took.
  let seq = 0;
  const own = (pid: number) => ({ [ATTR.threadId]: pid + (seq % 3), [ATTR.kernelSeq]: ++seq });
  let id = 1;
  for (const a of agents) {
    for (let t = 0; t < 4; t++) {
      const r0 = Math.floor(rnd() * 24_000);
      const trace = `t${a.pid}x${t}`;
      const root = (id++).toString(16);
      const llm = r0 + 100 + Math.floor(rnd() * 200);
      const tool = llm + 300 + Math.floor(rnd() * 300);
      const parts: SpanSpec[] = [
        { trace, id: root, name: 'agent', from: r0, to: r0 + 3000 },
        { trace, id: (id++).toString(16), parent: root, name: 'llm', from: llm, to: llm + 250, attributes: { 'openinference.span.kind': 'LLM' } },
        { trace, id: (id++).toString(16), parent: root, name: 'tool', from: tool, to: tool + 1 + Math.floor(rnd() * 40), attributes: { 'openinference.span.kind': pick(['TOOL', 'CHAIN']) } },
        // A short span among a run's opens: its edges fall inside the run.
        { trace, id: (id++).toString(16), parent: root, name: 'step', from: tool + 2, to: tool + 3, attributes: { 'openinference.span.kind': 'TOOL' } },
      ];
      for (const spec of parts) {
        edges.push(spec.from, spec.to, spec.from - 10, spec.to + 10);
        // Most arrive within seconds; some after the events' patience (15 s), so only the tolerance places them.
        actions.push({ at: spec.to + Math.floor(rnd() < 0.2 ? 16_000 + rnd() * 8000 : rnd() * 3000), traces: spans(`agent-${a.pid}`, a.pid, [spec]) });
      }
    }
  }
  children.forEach((c, i) => actions.push({ at: Math.floor(rnd() * 15_000), logs: { proc: agents[i]!, events: [{ kind: 'fork', ms: 10, attributes: { [ATTR.processChildPid]: c.pid } }] } }));
  actions.push({ at: Math.floor(rnd() * 15_000), logs: { proc: children[0]!, events: [{ kind: 'fork', ms: 11, attributes: { [ATTR.processChildPid]: grandchild.pid } }] } });
  for (let b = 0; b < 70; b++) {
    const proc = pick([...agents, ...agents, ...children, grandchild, loner, loner]);
    const at = Math.floor(rnd() * 26_000);
    // A batch starts next to a span edge, at a window bucket's edge, or a while before it arrives.
    const start = pick([() => pick(edges) - rnd() * 20, () => BUCKET_EDGE_MS - rnd() * 30, () => at - rnd() * 3000])();
    const events: KernelSpec[] = [];
    let ms = Math.max(0, start);
    for (let run = 1 + Math.floor(rnd() * 4); run > 0; run--) {
      if (rnd() < 0.3) {
        const other = pick(OTHERS);
        events.push({ kind: other.kind, ms, attributes: { ...own(proc.pid), ...other.attributes } });
      }
      const family = pick(FAMILIES);
      for (let i = 0, n = 1 + Math.floor(rnd() * 14); i < n; i++) {
        const f = family(Math.floor(rnd() * 40), pick);
        const repeat: Record<string, AttributeValue> = rnd() < 0.15 ? { [ATTR.kernelRepeat]: 1 + Math.floor(rnd() * 3) } : {};
        events.push({ kind: 'open', ms, attributes: { ...own(proc.pid), [ATTR.filePath]: f.path, ...(f.enoent ? { [ATTR.errorType]: 'ENOENT' } : {}), ...repeat } });
        ms = Math.max(0, ms + pick(GAPS));
      }
    }
    actions.push({ at, logs: { proc, events } });
  }
  return actions.sort((x, y) => x.at - y.at);
}

/** An attribute list as text, with Longs as decimal strings. */
function text(list: readonly KeyValue[] | null | undefined): string {
  const value = (v: AnyValue | null | undefined): unknown => (v?.intValue !== undefined && v.intValue !== null ? String(v.intValue) : v?.arrayValue ? v.arrayValue.values?.map(value) : v);
  return JSON.stringify((list ?? []).map((kv) => [kv.key, value(kv.value)]));
}

interface Made {
  /** Each exported span, its resource and the round it was made in, ids relabelled. */
  spans: string[];
  metrics: string[];
  /** Held events and items after each round (items: events and runs of opens). */
  held: number[];
  items: number[];
}

async function made(actions: Action[], config: CorrelateConfig, groupOpens: boolean, written = false): Promise<Made> {
  let clock = Number(T0);
  const labels = new Map<string, string>();
  const label = (id: Uint8Array | null | undefined) => {
    const hex = Buffer.from(id ?? []).toString('hex');
    if (!hex) return '-';
    if (!labels.has(hex)) labels.set(hex, `id${labels.size}`);
    return labels.get(hex)!;
  };
  const out: string[] = [];
  const next: Consumers = {
    traces: {
      consume: async (d: TracesData) => {
        for (const rs of d.resourceSpans) {
          for (const ss of rs.scopeSpans) {
            for (const s of ss.spans) {
              out.push([clock - Number(T0), label(s.traceId), label(s.spanId), label(s.parentSpanId), s.name, s.kind, String(s.startTimeUnixNano), String(s.endTimeUnixNano), text(s.attributes), ss.scope?.name, text(rs.resource?.attributes)].join(' '));
            }
          }
        }
      },
    },
    logs: { consume: async () => undefined },
  };
  const metrics = new Metrics();
  const p = new CorrelateProcessor({ id: 'correlate', name: '', logger: silentLogger(), metrics }, config, next, () => clock, groupOpens);
  const heldEvents = (p as unknown as { held: HeldEvents }).held;
  const held: number[] = [];
  const items: number[] = [];
  const tick = async () => {
    await p.tick();
    held.push(heldEvents.size);
    items.push(heldEvents.runs.reduce((n, r) => n + r.items.length, 0));
  };
  await replay(
    actions,
    (ms) => (clock = Number(T0) + ms),
    tick,
    async (a) => {
      if (a.traces) await p.traces.consume(a.traces);
      if (a.logs) await p.logs.consume(kernelEvents(a.logs.proc, a.logs.events, written));
    },
  );
  await p.shutdown();
  const values: string[] = [];
  for (const name of ['aibom_correlate_events_total', 'aibom_correlate_evicted_events_total', 'aibom_correlate_emitted_spans_total', 'aibom_correlate_held_events']) {
    const m = (await metrics.registry.getSingleMetric(name)?.get()) as { values: { value: number; labels: Record<string, unknown> }[] };
    for (const v of m.values) values.push(`${name} ${JSON.stringify(v.labels)} ${v.value}`);
  }
  return { spans: out, metrics: values.sort(), held, items };
}

describe('runs of opens held as one export what every open held alone does', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) {
    // Seeds from 7 hold at most 40 events: the oldest go early, runs of opens cut where the count ends.
    const config = { ...createDefaultConfig(), maxBufferedEvents: seed >= 7 ? 40 : createDefaultConfig().maxBufferedEvents };
    test(`random agents, children, spans and opens (seed ${seed}${seed >= 7 ? ', bound of 40 events' : ''})`, async () => {
      const actions = scenario(seed);
      const grouped = await made(actions, config, true);
      const alone = await made(actions, config, false);
      expect(grouped.spans.length).toBeGreaterThan(20);
      expect(grouped.spans).toEqual(alone.spans);
      expect(grouped.metrics).toEqual(alone.metrics);
      expect(grouped.held).toEqual(alone.held);
      // Runs were held: fewer items than events in some round (alone, one item per event).
      expect(alone.items).toEqual(alone.held);
      expect(grouped.items.some((n, i) => n < grouped.held[i]!)).toBe(true);
      if (seed >= 7) expect(grouped.metrics.some((m) => m.startsWith('aibom_correlate_evicted_events_total') && !m.endsWith(' 0'))).toBe(true);
    });
    test(`the same with the receiver's records, runs holding them as columns (seed ${seed})`, async () => {
      const actions = scenario(seed);
      const grouped = await made(actions, config, true, true);
      const alone = await made(actions, config, false, true);
      expect(grouped.spans).toEqual(alone.spans);
      expect(grouped.metrics).toEqual(alone.metrics);
      expect(grouped.held).toEqual(alone.held);
      // Spans of one path took a made-again record's attributes (the tid, seq and result differ per open).
      expect(grouped.spans.some((s) => s.includes(`"${ATTR.fileResult}"`) && s.includes(`"${ATTR.kernelSeq}"`))).toBe(true);
    });
  }
});

test('a run of opens is one item; a span edge among its opens splits it where the placement changes', async () => {
  let clock = Number(T0);
  const made: string[] = [];
  const next: Consumers = {
    traces: { consume: async (d: TracesData) => void made.push(...d.resourceSpans.flatMap((rs) => rs.scopeSpans.filter((ss) => ss.scope?.name === 'aibom.correlate').flatMap((ss) => ss.spans.map((s) => `${s.name} <- ${Buffer.from(s.parentSpanId ?? []).toString('hex').slice(-1)}`)))) },
    logs: { consume: async () => undefined },
  };
  const p = new CorrelateProcessor({ id: 'correlate', name: '', logger: silentLogger(), metrics: new Metrics() }, createDefaultConfig(), next, () => clock);
  const held = (p as unknown as { held: HeldEvents }).held;
  const agent = { pid: 100, ppid: 1, comm: 'node' };
  // Ten module loads 2 ms apart (1000-1018 ms); a tool span from 1009 ms covers the last five.
  await p.logs.consume(kernelEvents(agent, Array.from({ length: 10 }, (_, i) => ({ kind: 'open' as const, ms: 1000 + 2 * i, attributes: { [ATTR.filePath]: `${ROOTS[0]}/pkg-${i}/index.js` } })), false));
  expect(held.runs.map((r) => r.items.map((h) => (h instanceof OpenRun ? h.size : 'event')))).toEqual([[10]]);
  await p.traces.consume(spans('agent', agent.pid, [{ trace: 'a1', id: '1', name: 'agent', from: 0, to: 9000 }]));
  await p.tick();
  expect(held.runs[0]!.items.map((h) => h.size)).toEqual([10]);
  clock += 100;
  await p.traces.consume(spans('agent', agent.pid, [{ trace: 'a1', id: '2', parent: '1', name: 'tool', from: 1009, to: 2000, attributes: { 'openinference.span.kind': 'TOOL' } }]));
  await p.tick();
  expect(held.runs[0]!.items.map((h) => h.size)).toEqual([5, 5]);
  clock += 2000;
  await p.tick();
  expect(made).toEqual(['load 5 modules under /app/node_modules <- 1', 'load 5 modules under /app/node_modules <- 2']);
  await p.shutdown();
});

