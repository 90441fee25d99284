// Where a collector's CPU profile went, by pipeline stage and signal: which of our costs a peer collector
// (receive, batch, write) also pays and which only we do (the AI processors, the kernel-event path).
//   node dist/bench/profile-stages.js FILE.cpuprofile
// A sample goes to the nearest frame on its stack (leaf first) that is in a stage's module; shared helpers
// (pipeline/*.js, Node's internals) are skipped to their caller, so a Buffer copy made by the gRPC framing is
// the receiver's and an attribute read made by provenance is provenance's. Its signal is "kernel events" when
// the stack holds the eBPF receiver or a logs entry point, "spans" when it holds a traces one or the OTLP
// receiver. A V8 profile samples the main thread only, and counts time the thread was runnable but waiting
// for a CPU: on a loaded machine the shares hold, the milliseconds are wall time.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
export interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Stages by module path under dist/, first match wins; a peer collector has the first three. */
const STAGES: [string, RegExp][] = [
  ['receive (gRPC, decode, arrival check)', /\/dist\/(receiver\/otlp|pipeline\/otlp\/(?!json-writer))/],
  ['batch', /\/dist\/processors\/batch\//],
  ['write (file exporter, JSON)', /\/dist\/(exporters\/file|pipeline\/otlp\/json-writer)/],
  ['debug exporter', /\/dist\/exporters\/debug\//],
  ['eBPF receiver', /\/dist\/(receiver\/ebpf|pipeline\/kernel-event)\//],
  ['enrich', /\/dist\/processors\/enrich\//],
  ['normalize', /\/dist\/processors\/normalize\//],
  ['correlate', /\/dist\/processors\/correlate\//],
  ['aibom', /\/dist\/processors\/aibom\//],
  ['baseline', /\/dist\/processors\/baseline\//],
  ['provenance', /\/dist\/processors\/provenance\//],
  ['history', /\/dist\/processors\/history\//],
  ['pipeline (service, config, telemetry)', /\/dist\/pipeline\/(service|config|telemetry|cli|deviation)\//],
];
export const PEERS_PAY = new Set(STAGES.slice(0, 3).map(([s]) => s));
export const NO_STAGE = 'start-up, timers, Node internals (no stage on the stack)';
const LOGS = /^(consumeLogs|forwardLogs|appendLogsJson|logLogs)$/;
const TRACES = /^(consumeTraces|appendTracesJson|logTraces|decodeTracesLazily)$/;

/** Milliseconds by stage, then by signal, of a profile's samples (idle left out). */
export function stagesOf(p: Profile): Map<string, Map<string, number>> {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stack = (id: number): ProfileNode[] => {
    const out: ProfileNode[] = [];
    for (let c: number | undefined = id; c !== undefined; c = parent.get(c)) out.push(byId.get(c)!);
    return out;
  };
  const label = (leaf: ProfileNode): [stage: string, signal: string] | undefined => {
    const name = leaf.callFrame.functionName;
    if (name === '(idle)') return undefined;
    const frames = stack(leaf.id);
    const signal = frames.some((f) => LOGS.test(f.callFrame.functionName) || /\/dist\/(receiver\/ebpf|pipeline\/kernel-event)\//.test(f.callFrame.url))
      ? 'kernel events'
      : frames.some((f) => TRACES.test(f.callFrame.functionName) || /\/dist\/receiver\/otlp\//.test(f.callFrame.url))
        ? 'spans'
        : 'other';
    if (name === '(garbage collector)' || name === '(program)') return [name, signal];
    for (const f of frames) for (const [stage, re] of STAGES) if (re.test(f.callFrame.url)) return [stage, signal];
    return [NO_STAGE, signal];
  };
  const labels = new Map<number, [string, string] | undefined>();
  const ms = new Map<string, Map<string, number>>();
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i]!;
    if (!labels.has(id)) labels.set(id, label(byId.get(id)!));
    const l = labels.get(id);
    if (!l) continue;
    const row = ms.get(l[0]) ?? new Map<string, number>();
    row.set(l[1], (row.get(l[1]) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
    ms.set(l[0], row);
  }
  return ms;
}

function main(file: string): void {
  const ms = stagesOf(JSON.parse(readFileSync(file, 'utf8')) as Profile);
  const signals = ['spans', 'kernel events', 'other'];
  const sum = (row: Map<string, number>): number => [...row.values()].reduce((a, x) => a + x, 0);
  const busy = [...ms.values()].reduce((a, row) => a + sum(row), 0);
  console.log(`${file}: busy ${busy.toFixed(0)} ms sampled (main thread)`);
  console.log(`| stage | a peer pays it too | ms | share | of which: ${signals.join(' / ')} ms |`);
  console.log('|---|---|---|---|---|');
  const rows = [...ms].sort((a, b) => sum(b[1]) - sum(a[1]));
  for (const [stage, row] of rows) {
    console.log(`| ${stage} | ${PEERS_PAY.has(stage) ? 'yes' : ''} | ${sum(row).toFixed(0)} | ${((100 * sum(row)) / busy).toFixed(1)}% | ${signals.map((s) => (row.get(s) ?? 0).toFixed(0)).join(' / ')} |`);
  }
  const peerPays = rows.filter(([s]) => PEERS_PAY.has(s)).reduce((a, [, r]) => a + (r.get('spans') ?? 0), 0);
  console.log(`stages a peer has too, on spans: ${peerPays.toFixed(0)} ms (${((100 * peerPays) / busy).toFixed(1)}%)`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main(process.argv[2] ?? '');
