/**
 * The arrival check and the view layer of two builds side by side in one process: a request's bytes
 * received (`decodeReceived`: resources and scopes decoded, every span checked) and each span's
 * canonical view computed (normalize's first read: the attribute table, the slots, the view), in
 * alternating steps (ab-rounds.ts). CPU µs per span. A script:
 *
 *   npm run build && node dist/bench/view-ab.js <agent|varied> <build A> <build B> [rounds=12] [ms per round=1000]
 *
 * `agent`: bench/loadgen's agent-run requests (ids of their own per request, values as the loadgen
 * repeats them); `varied`: the same keys, with values of their own per span (token counts, tool call
 * ids, URLs, session ids, model names), so caches keyed by values miss as they would on real traffic.
 * Requests are made outside the measured window. With `AB_RECEIVE_ONLY=1` in the environment, only
 * `decodeReceived` is measured (the arrival check and the outer levels' decode, no view).
 */
import Long from 'long';
import { attrs } from '../pipeline/otlp/attributes.js';
import { tracesCodec } from '../pipeline/otlp/codec.js';
import { SpanKind, type Span } from '../pipeline/otlp/types.js';
import { abArgs, abRounds, median } from './ab-rounds.js';
import { loadgenIds, loadgenRequest } from './loadgen-shape.js';

const {
  picked: [shape],
  buildA,
  buildB,
  rounds: ROUNDS,
  roundMs: ROUND_MS,
} = abArgs('view-ab', [['agent', 'varied']], { rounds: 12, ms: 1000 });
const STEP = 10;
const RECEIVE_ONLY = process.env.AB_RECEIVE_ONLY === '1';

let seed = 1;
/** A small deterministic generator (the values differ per span, the runs are repeatable). */
function next(n: number): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed % n;
}
const word = () => next(2 ** 30).toString(36);
const NOW = Long.fromString('1764470000123456789', true);

/** An agent run of 10 spans with bench/loadgen's keys, every value that varies in real traffic its own. */
function variedRun(seq: number, t: number): Span[] {
  const { traceId } = loadgenIds(seq, t);
  let n = 0;
  const id = () => loadgenIds(seq, 100 * t + n++).spanId;
  const root = id();
  const span = (parent: Buffer | undefined, name: string, kind: number, a: Record<string, string | number>): Span => ({
    traceId,
    spanId: id(),
    parentSpanId: parent,
    name,
    kind,
    startTimeUnixNano: NOW,
    endTimeUnixNano: NOW.add(1_000_000 + next(1e9)),
    attributes: attrs(a),
    status: { code: 1 },
  });
  const model = ['gpt-4o', 'gpt-4o-mini', 'o3', 'claude-sonnet-4'][next(4)]!;
  const llm = () =>
    span(root, `chat ${model}`, SpanKind.CLIENT, {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': model,
      'gen_ai.usage.input_tokens': next(100_000),
      'gen_ai.usage.output_tokens': next(4000),
      'server.address': 'api.openai.com',
      'server.port': 443,
      'http.request.method': 'POST',
      'http.response.status_code': 200,
      'gen_ai.request.temperature': next(100) / 100,
    });
  const tool = (name: string) => span(root, `execute_tool ${name}`, SpanKind.INTERNAL, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': name, 'gen_ai.tool.call.id': `call_${word()}`, 'gen_ai.tool.type': 'function' });
  const http = (host: string, port: number) => span(root, 'POST', SpanKind.CLIENT, { 'http.request.method': 'POST', 'url.full': `http://${host}:${port}/q/${word()}`, 'server.address': host, 'server.port': port, 'http.response.status_code': 200 });
  return [
    span(undefined, 'invoke_agent support-agent', SpanKind.INTERNAL, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': `agent-${next(50)}`, 'gen_ai.provider.name': 'openai' }),
    llm(),
    tool('search_kb'),
    http('kb.internal', 8080),
    llm(),
    tool('read_file'),
    span(root, 'tools/call read_file', SpanKind.CLIENT, { 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': 'read_file', 'gen_ai.operation.name': 'execute_tool', 'mcp.session.id': word(), 'network.transport': 'pipe' }),
    llm(),
    tool('create_ticket'),
    http('tickets.internal', 8081),
  ];
}

function request(seq: number): Buffer {
  if (shape === 'agent') return loadgenRequest('agent', seq);
  const spans = Array.from({ length: 10 }, (_, t) => variedRun(seq, t)).flat();
  return Buffer.from(tracesCodec.encode({ resourceSpans: [{ resource: { attributes: attrs({ 'service.name': 'bench-agent' }) }, scopeSpans: [{ scope: { name: 'bench', version: '1' }, spans }] }] }));
}

interface Build {
  decodeReceived(b: Buffer): { resourceSpans: { scopeSpans: { spans: Span[] }[] }[] };
  canonicalView(s: Span): unknown;
}

async function load(dir: string): Promise<Build> {
  const { tracesCodec: codec } = await import(`${dir}/dist/pipeline/otlp/codec.js`);
  const { canonicalView } = await import(`${dir}/dist/processors/normalize/canonical.js`);
  return { decodeReceived: (b) => codec.decodeReceived(b), canonicalView };
}

const builds = [await load(buildA), await load(buildB)];
let seq = 1;
let views = 0;

async function step(b: number): Promise<number> {
  const x = builds[b]!;
  const requests: Buffer[] = [];
  for (let i = 0; i < STEP; i++) requests.push(request(seq++));
  const c0 = process.cpuUsage();
  for (const r of requests) {
    const d = x.decodeReceived(r);
    if (RECEIVE_ONLY) continue;
    for (const rs of d.resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) if (x.canonicalView(s)) views++;
  }
  const c = process.cpuUsage(c0);
  return c.user + c.system;
}

const results = await abRounds(step, 100 * STEP, ROUNDS, ROUND_MS);
const show = (a: number[]) => `median ${median(a).toFixed(3)}`;
const ratios = results[1]!.map((b, i) => b / results[0]![i]!);
console.log(`${RECEIVE_ONLY ? 'arrival check (decodeReceived)' : 'arrival check + canonical view'}, ${shape}: A ${show(results[0]!)} | B ${show(results[1]!)} µs CPU per span; B/A per round ${show(ratios)}, all ${ratios.map((r) => r.toFixed(2)).join(' ')} (${ROUNDS} rounds of ${ROUND_MS} ms; ${views} views)`);
