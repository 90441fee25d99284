import { describe, expect, test } from 'vitest';
import type { Consumers } from '../../pipeline/consumer.js';
import { findAttr, int64ToBigInt } from '../../pipeline/otlp/attributes.js';
import type { Span, TracesData } from '../../pipeline/otlp/types.js';
import { ATTR, type KernelEventKind } from '../../pipeline/semconv.js';
import { silentLogger } from '../../pipeline/telemetry/logger.js';
import { Metrics } from '../../pipeline/telemetry/metrics.js';
import { createDefaultConfig } from './config.js';
import { CorrelateProcessor } from './correlate-processor.js';
import { at, kernelEvents, random, replay, spans, T0, type ProcessFacts, type SpanSpec } from './testdata/builders.js';

/**
 * A round looks an event up again only when something that could change the answer changed: a span
 * of its process or an ancestor covering its time, its ancestry, its patience, its matched span
 * leaving the index; a run of events (one process, one batch) none of which that applies to is passed
 * by. That must give exactly what looking every held event up in every round gives. The same random
 * agents, children, spans and event batches go to two processors; before each of its rounds the
 * second is told every known process changed (an event of it with another executable name, long
 * before anything else, which becomes nothing but its own activity span), so it looks every held
 * event up again. The spans made for the agents' events must be the same, in the same order, made in
 * the same round.
 */
const PATHS = ['/app/node_modules/a/index.js', '/app/node_modules/b/lib.js', '/usr/lib/python3.11/os.py', '/data/kb/faq.md', '/etc/hosts', '/proc/self/stat'];
/** When the second processor's "changed" events happen (ms from T0): no span is near. */
const LONG_BEFORE = -100_000;

interface Action {
  at: number;
  logs?: { proc: ProcessFacts; events: { kind: KernelEventKind; ms: number; attributes: Record<string, string | number> }[] };
  traces?: TracesData;
}

function scenario(seed: number): Action[] {
  const rnd = random(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const agents: ProcessFacts[] = [100, 101, 102].map((pid) => ({ pid, ppid: 1, comm: 'node' }));
  const children: ProcessFacts[] = agents.map((a, i) => ({ pid: 200 + i, ppid: a.pid, comm: 'python3' }));
  const orphan: ProcessFacts = { pid: 300, ppid: 0, comm: 'sh' };
  const actions: Action[] = [];
  /** Span edges (ms): events at and near them test the exact and the tolerant containment. */
  const edges: number[] = [];
  let id = 1;
  for (const a of agents) {
    // Traces of a root span and an LLM and a tool call inside it, each exported 0-3 s after it ends:
    // an inner span often arrives after the root, within the settle time or after it.
    for (let t = 0; t < 4; t++) {
      const r0 = Math.floor(rnd() * 20_000);
      const trace = `t${a.pid}x${t}`;
      const root = (id++).toString(16);
      const parts: SpanSpec[] = [
        { trace, id: root, name: 'agent', from: r0, to: r0 + 4000 },
        { trace, id: (id++).toString(16), parent: root, name: 'llm', from: r0 + 200, to: r0 + 1500, attributes: { 'openinference.span.kind': 'LLM' } },
        { trace, id: (id++).toString(16), parent: root, name: 'tool', from: r0 + 1500 + Math.floor(rnd() * 20), to: r0 + 3500, attributes: { 'openinference.span.kind': pick(['TOOL', 'CHAIN']) } },
      ];
      for (const spec of parts) {
        edges.push(spec.from, spec.to);
        actions.push({ at: spec.to + Math.floor(rnd() * 3000), traces: spans(`agent-${a.pid}`, a.pid, [spec]) });
      }
    }
  }
  // Forks of the children, some learned after the children's own events.
  children.forEach((c, i) => actions.push({ at: Math.floor(rnd() * 15_000), logs: { proc: agents[i]!, events: [{ kind: 'fork', ms: 10, attributes: { [ATTR.processChildPid]: c.pid } }] } }));
  for (let b = 0; b < 80; b++) {
    const proc = pick([...agents, ...agents, ...children, orphan]);
    const at = Math.floor(rnd() * 25_000);
    const events = Array.from({ length: 1 + Math.floor(rnd() * 12) }, (): { kind: 'open' | 'connect'; ms: number; attributes: Record<string, string | number> } => {
      const ms = rnd() < 0.3 ? Math.max(0, pick(edges) + Math.floor(rnd() * 30) - 15) : Math.max(0, at - Math.floor(rnd() * 3000));
      return rnd() < 0.85 ? { kind: 'open' as const, ms, attributes: { [ATTR.filePath]: pick(PATHS) } } : { kind: 'connect' as const, ms, attributes: { [ATTR.networkPeerAddress]: '127.0.0.1', [ATTR.networkPeerPort]: 8080 } };
    });
    actions.push({ at, logs: { proc, events } });
  }
  return actions.sort((x, y) => x.at - y.at);
}

/** The spans a processor makes for the scenario; `rematch`: with every held event looked up again in every round. */
async function made(actions: Action[], rematch: boolean): Promise<string[]> {
  let clock = Number(T0);
  const out: { span: Span; when: number }[] = [];
  const next: Consumers = {
    traces: {
      consume: async (d: TracesData) => {
        for (const rs of d.resourceSpans) for (const ss of rs.scopeSpans) if (ss.scope?.name === 'aibom.correlate') for (const span of ss.spans) out.push({ span, when: clock });
      },
    },
    logs: { consume: async () => undefined },
  };
  const p = new CorrelateProcessor({ id: 'correlate', name: '', logger: silentLogger(), metrics: new Metrics() }, createDefaultConfig(), next, () => clock);
  // What the processor knows of each process (pid -> parent), so the "changed" events teach it nothing else.
  const known = new Map<number, ProcessFacts>();
  let round = 0;
  const tick = async () => {
    if (rematch) {
      round++;
      for (const proc of known.values()) await p.logs.consume(kernelEvents({ ...proc, comm: `${proc.comm}-${round}` }, [{ kind: 'open', ms: LONG_BEFORE, attributes: { [ATTR.filePath]: '/tmp/changed' } }]));
    }
    await p.tick();
  };
  await replay(
    actions,
    (ms) => (clock = Number(T0) + ms),
    tick,
    async (a) => {
      if (a.traces) await p.traces.consume(a.traces);
      if (a.logs) {
        await p.logs.consume(kernelEvents(a.logs.proc, a.logs.events));
        known.set(a.logs.proc.pid, a.logs.proc);
      }
    },
  );
  await p.shutdown();
  // Ids are random: name each made span by its place among the agents' ones.
  const mine = out.filter((o) => int64ToBigInt(o.span.startTimeUnixNano) >= at(0));
  const label = new Map(mine.map((o, i) => [Buffer.from(o.span.spanId).toString('hex'), `made-${i}`]));
  const name = (id: Uint8Array | undefined) => label.get(Buffer.from(id ?? []).toString('hex')) ?? Buffer.from(id ?? []).toString('hex');
  return mine.map(({ span: s, when }) => [when - Number(T0), name(s.spanId), name(s.parentSpanId), s.name, String(s.startTimeUnixNano), String(s.endTimeUnixNano), findAttr(s.attributes, ATTR.kernelCount), findAttr(s.attributes, ATTR.correlationKey)].join(' '));
}

describe('looking up again only what could have changed places every event as looking up everything does', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    test(`random agents, children, spans and batches (seed ${seed})`, async () => {
      const actions = scenario(seed);
      const skipping = await made(actions, false);
      expect(skipping.length).toBeGreaterThan(10);
      expect(skipping).toEqual(await made(actions, true));
    });
  }
});
