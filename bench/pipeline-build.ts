/**
 * The embedded default's traces pipeline (enrich, normalize, correlate, aibom, baseline, provenance,
 * batch, then the batch encoded as the OTLP exporter encodes it) of one build, from its own
 * factories and codec (received spans are its own classes), for the in-process benches of the
 * traces pipeline (pipeline-ab.ts, pipeline-gc.ts). Processors keep their state in memory (no
 * directory); their timers run as in the collector.
 */
export type Shape = 'llm' | 'agent' | 'content';
export type Data = unknown;
interface Consumer {
  consume(d: Data): Promise<void>;
}
interface Built {
  traces: Consumer;
  logs?: Consumer;
  start(host: unknown): Promise<void>;
  shutdown(): Promise<void>;
}
interface Factory {
  createDefaultConfig(): unknown;
  create(settings: unknown, config: unknown, next: unknown): Built;
}

/** The embedded default's traces processors, in order. */
export const PROCESSORS = ['enrich', 'normalize', 'correlate', 'aibom', 'baseline', 'provenance', 'batch'];

/** One build's pipeline, built from its own factories and codec (received spans are its own classes). */
/** What the in-process benches take from a build's dist/: its codec, receive-side neutralizing, telemetry, host and factories. */
export async function buildModules(dir: string) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const load = (path: string): Promise<any> => import(`${dir}/dist/${path}`);
  const { tracesCodec } = await load('pipeline/otlp/codec.js');
  const { neutralize } = await load('receiver/otlp/neutralize.js');
  const { silentLogger } = await load('pipeline/telemetry/logger.js');
  const { Metrics } = await load('pipeline/telemetry/metrics.js');
  const { createHost } = await load('pipeline/host.js');
  const { findFactory } = await load('pipeline/cli/components.js');
  return { tracesCodec, neutralize, silentLogger, Metrics, createHost, findFactory };
}

export async function buildPipeline(dir: string, processors: readonly string[]) {
  const { tracesCodec, neutralize, silentLogger, Metrics, createHost, findFactory } = await buildModules(dir);
  const metrics = new Metrics();
  const settings = (id: string) => ({ id, name: '', logger: silentLogger(), metrics });
  let spansOut = 0;
  let head: { traces: Consumer; logs: Consumer } = {
    traces: {
      async consume(d: Data) {
        tracesCodec.encode(d);
        spansOut += countSpans(d);
      },
    },
    logs: { consume: async () => {} },
  };
  const built: Built[] = [];
  for (const id of [...processors].reverse()) {
    const f = findFactory('processor', id) as Factory;
    const p = f.create(settings(id), f.createDefaultConfig(), head);
    built.push(p);
    head = { traces: p.traces, logs: p.logs ?? head.logs };
  }
  const host = createHost();
  for (const p of built) await p.start(host);
  const first = head.traces;
  return {
    received(bytes: Buffer): Data {
      const d = tracesCodec.decodeReceived(bytes);
      neutralize('traces', d);
      return d;
    },
    consume: (d: Data) => first.consume(d),
    get spansOut() {
      return spansOut;
    },
    async shutdown() {
      for (const p of [...built].reverse()) await p.shutdown();
    },
  };
}

export function countSpans(d: Data): number {
  let n = 0;
  for (const rs of (d as { resourceSpans: { scopeSpans: { spans: unknown[] }[] }[] }).resourceSpans) for (const ss of rs.scopeSpans) n += ss.spans.length;
  return n;
}
