import { describe, expect, test } from 'vitest';
import type { Consumers } from '../../pipeline/consumer.js';
import { findAttr } from '../../pipeline/otlp/attributes.js';
import type { LogsData, Span, TracesData } from '../../pipeline/otlp/types.js';
import { ATTR, type KernelEventKind } from '../../pipeline/semconv.js';
import { silentLogger } from '../../pipeline/telemetry/logger.js';
import { Metrics } from '../../pipeline/telemetry/metrics.js';
import { createDefaultConfig } from './config.js';
import { CorrelateProcessor } from './correlate-processor.js';
import { kernelEvents, random, spans, T0, type ProcessFacts, type SpanSpec } from './testdata/builders.js';

/**
 * A round passes by a run of held events (one process, one batch) when nothing could place any of
 * them, and keeps a match by pid and time while nothing of its process changed. Both must give
 * exactly what matching every event alone in every round gives. The same random agents, spans and
 * events go to two processors: one as batches of one process (runs of many events), the other with
 * an event of a bystander process between every two (runs of one event, so every event is looked at
 * on its own). The spans made for the agents' events must be the same, in the same order.
 */
const BYSTANDER: ProcessFacts = { pid: 7777, ppid: 1, comm: 'bystander' };
const PATHS = ['/app/node_modules/a/index.js', '/app/node_modules/b/lib.js', '/usr/lib/python3.11/os.py', '/data/kb/faq.md', '/etc/hosts', '/proc/self/stat'];

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
  let id = 1;
  for (const a of agents) {
    // Spans of random nesting and times, arriving 0-5 s after they end.
    for (let t = 0; t < 8; t++) {
      const from = Math.floor(rnd() * 20_000);
      const to = from + Math.floor(rnd() * 4000);
      const kind = pick(['LLM', 'TOOL', 'AGENT', undefined]);
      const spec: SpanSpec = { trace: `t${a.pid}`, id: (id++).toString(16), name: `span-${id}`, from, to, attributes: kind ? { 'openinference.span.kind': kind } : {} };
      actions.push({ at: to + Math.floor(rnd() * 5000), traces: spans(`agent-${a.pid}`, a.pid, [spec]) });
    }
  }
  // Forks of the children, some learned late.
  children.forEach((c, i) => actions.push({ at: Math.floor(rnd() * 15_000), logs: { proc: agents[i]!, events: [{ kind: 'fork', ms: 10, attributes: { [ATTR.processChildPid]: c.pid } }] } }));
  for (let b = 0; b < 60; b++) {
    const proc = pick([...agents, ...children, orphan]);
    const at = Math.floor(rnd() * 25_000);
    const events = Array.from({ length: 1 + Math.floor(rnd() * 12) }, () => {
      const ms = Math.max(0, at - Math.floor(rnd() * 3000));
      return rnd() < 0.85 ? { kind: 'open' as const, ms, attributes: { [ATTR.filePath]: pick(PATHS) } } : { kind: 'connect' as const, ms, attributes: { [ATTR.networkPeerAddress]: '127.0.0.1', [ATTR.networkPeerPort]: 8080 } };
    });
    actions.push({ at, logs: { proc, events } });
  }
  return actions.sort((x, y) => x.at - y.at);
}

/** The spans a processor makes for the scenario, with every event alone (`interleave`) or in its batch. */
async function made(actions: Action[], interleave: boolean): Promise<string[]> {
  let clock = Number(T0);
  const out: { span: Span; pid: unknown }[] = [];
  const next: Consumers = {
    traces: {
      consume: async (d: TracesData) => {
        for (const rs of d.resourceSpans) for (const ss of rs.scopeSpans) if (ss.scope?.name === 'aibom.correlate') for (const span of ss.spans) out.push({ span, pid: findAttr(rs.resource?.attributes, ATTR.processPid) });
      },
    },
    logs: { consume: async () => undefined },
  };
  const p = new CorrelateProcessor({ id: 'correlate', name: '', logger: silentLogger(), metrics: new Metrics() }, createDefaultConfig(), next, () => clock);
  let tick = 0;
  for (const a of actions) {
    for (; tick <= a.at; tick += 250) {
      clock = Number(T0) + tick;
      await p.tick();
    }
    clock = Number(T0) + a.at;
    if (a.traces) await p.traces.consume(a.traces);
    if (a.logs) {
      const data: LogsData = interleave
        ? { resourceLogs: a.logs.events.flatMap((e, i) => [...kernelEvents(a.logs!.proc, [e]).resourceLogs, ...kernelEvents(BYSTANDER, [{ kind: 'open', ms: e.ms, attributes: { [ATTR.filePath]: `/tmp/b${i}` } }]).resourceLogs]) }
        : kernelEvents(a.logs.proc, a.logs.events);
      await p.logs.consume(data);
    }
  }
  clock += 40_000;
  await p.tick();
  await p.shutdown();
  // Ids are random: name each made span by its place among the agents' ones.
  const mine = out.filter((o) => o.pid !== BYSTANDER.pid).map((o) => o.span);
  const label = new Map(mine.map((s, i) => [Buffer.from(s.spanId).toString('hex'), `made-${i}`]));
  const name = (id: Uint8Array | undefined) => label.get(Buffer.from(id ?? []).toString('hex')) ?? Buffer.from(id ?? []).toString('hex');
  return mine.map((s) => [name(s.spanId), name(s.parentSpanId), s.name, String(s.startTimeUnixNano), String(s.endTimeUnixNano), findAttr(s.attributes, ATTR.kernelCount), findAttr(s.attributes, ATTR.correlationKey)].join(' '));
}

describe('held runs and kept matches place every event as matching it alone would', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    test(`random agents, children, spans and batches (seed ${seed})`, async () => {
      const actions = scenario(seed);
      const batched = await made(actions, false);
      expect(batched.length).toBeGreaterThan(10);
      expect(batched).toEqual(await made(actions, true));
    });
  }
});
