import Long from 'long';
import { attrs } from '../pipeline/otlp/attributes.js';
import { tracesCodec } from '../pipeline/otlp/codec.js';
import { SpanKind, type Span, type TracesData } from '../pipeline/otlp/types.js';
import { generator, variedCallId, variedDuration, variedInputTokens, variedOutputTokens, type LoadValues } from './loadgen-agent-run.js';

/**
 * What bench/loadgen puts on every LLM client span (`llmSpan` in bench/loadgen/main.go), for the
 * in-process benches that measure one processor on the pass-through bench's load.
 */
export const LOADGEN_LLM_ATTRIBUTES = {
  'gen_ai.operation.name': 'chat',
  'gen_ai.provider.name': 'openai',
  'gen_ai.request.model': 'gpt-4o',
  'gen_ai.usage.input_tokens': 812,
  'gen_ai.usage.output_tokens': 96,
  'server.address': 'api.openai.com',
  'server.port': 443,
  'http.request.method': 'POST',
  'http.response.status_code': 200,
  'gen_ai.request.temperature': 0.2,
} as const;

/** The attributes of the `gen_ai.choice` event on each of those spans. */
export const LOADGEN_CHOICE_ATTRIBUTES = { index: 0, 'gen_ai.response.finish_reason': 'stop' } as const;

/** Ids that differ per request (`seq`) and per span (`n`), as the loadgen's fresh ids do. */
export function loadgenIds(seq: number, n: number): { traceId: Buffer; spanId: Buffer } {
  const traceId = Buffer.alloc(16);
  traceId.writeUInt32BE(seq >>> 0, 4);
  traceId.writeUInt32BE(n, 12);
  const spanId = Buffer.alloc(8);
  spanId.writeUInt32BE(seq >>> 0, 0);
  spanId.writeUInt32BE(n + 1, 4);
  return { traceId, spanId };
}

const NOW = Long.fromString('1764470000123456789', true);
/** With varied values, request `seq`'s timestamps are NOW + seq * STEP_NS, as bench/loadgen's move with its clock. */
const STEP_NS = 5_000_000;
const LLM_NS = 1_500_000_000;

/** A request's varied values: undefined for fixed ones. */
type Vary = (() => number) | undefined;

function llmSpan(traceId: Buffer, spanId: Buffer, parentSpanId: Buffer, at: Long, r: Vary): Span {
  return {
    traceId,
    spanId,
    parentSpanId,
    name: 'chat gpt-4o',
    kind: SpanKind.CLIENT,
    startTimeUnixNano: at,
    endTimeUnixNano: at.add(r ? variedDuration(r, LLM_NS) : LLM_NS),
    attributes: attrs(r ? { ...LOADGEN_LLM_ATTRIBUTES, 'gen_ai.usage.input_tokens': variedInputTokens(r), 'gen_ai.usage.output_tokens': variedOutputTokens(r) } : LOADGEN_LLM_ATTRIBUTES),
    events: [{ timeUnixNano: at.add(10), name: 'gen_ai.choice', attributes: attrs(LOADGEN_CHOICE_ATTRIBUTES) }],
    status: { code: 1 },
  };
}

/** bench/loadgen's `llmRequest`: `spans` LLM client spans, each its own trace, under a parent the request does not carry. */
function llmSpans(seq: number, spans: number, now: Long, r: Vary): Span[] {
  const parent = Buffer.from('b7ad6b7169203331', 'hex');
  return Array.from({ length: spans }, (_, i) => {
    const { traceId, spanId } = loadgenIds(seq, i);
    return llmSpan(traceId, spanId, parent, now, r);
  });
}

/** A knowledge-base answer or a file as a tool returns it (bench/loadgen's `toolResult`): JSON text with quotes, newlines and accents. */
function toolResult(name: string, n: number): string {
  const docs = Array.from(
    { length: n },
    (_, i) =>
      `{"id":"doc-${i}","title":"Garantie für \\"Modell X-${i}\\"","text":"Reklamationen werden binnen 14 Tagen bearbeitet.\\nBitte Rechnung, Seriennummer und Kaufdatum (2025-0${1 + (i % 9)}-1${i % 10}) beilegen.\\tKontakt: support-${i}@example.com","score":0.${90 - i}}`,
  );
  return `{"tool":"${name}","documents":[${docs.join(',')}]}`;
}

/** The tool results, made once (the agent load without content makes none). */
const KB_RESULT = toolResult('search_kb', 12);
const FILE_RESULT = toolResult('read_file', 8);

const LLM_OUTPUT = '{"role":"assistant","content":"","tool_calls":[{"name":"search_kb","arguments":"{\\"query\\":\\"warranty claim\\",\\"top_k\\":3}"}]}';

/**
 * bench/loadgen's `agentRequest`: agent-run traces of 10 spans (root, 3 LLM calls, 3 tools, 2 HTTP
 * calls, 1 MCP call); with `content` its `contentRequest`: OpenInference's `input.value` (the
 * conversation so far) and `output.value` on the LLM and tool spans. Varied, a trace's content has
 * each digit moved by one amount of its own (bench/loadgen/varied.go varies the digits per trace).
 */
function agentSpans(seq: number, spans: number, now: Long, r: Vary, content = false): Span[] {
  const out: Span[] = [];
  let n = 0;
  for (let t = 0; t < spans / 10; t++) {
    const { traceId } = loadgenIds(seq, t);
    const id = () => loadgenIds(seq, n++).spanId;
    let at = now;
    const shift = r && content ? 1 + (r() % 9) : 0;
    const vary = (text: string) => (shift === 0 ? text : text.replace(/[0-9]/g, (d) => String((Number(d) + shift) % 10)));
    const chat = ['{"role":"system","content":"You are the support agent of Beispiel GmbH. Answer in the customer\'s language."}', '{"role":"user","content":"Ich möchte eine Garantie für mein \\"Modell X-3\\" anmelden."}'];
    const llm = (): Span => {
      const s = llmSpan(traceId, id(), root, at, r);
      if (content) s.attributes!.push(...attrs({ 'input.value': vary(`{"messages":[${chat.join(',')}]}`), 'output.value': vary(LLM_OUTPUT) }));
      return s;
    };
    const withContent = (s: Span, args: string, result: string): Span => {
      if (!content) return s;
      s.attributes!.push(...attrs({ 'input.value': vary(args), 'output.value': vary(result) }));
      chat.push(`{"role":"tool","content":${JSON.stringify(result)}}`);
      return s;
    };
    const span = (spanId: Buffer, parentSpanId: Buffer | undefined, name: string, kind: number, ms: number, a: Record<string, string | number>): Span => ({
      traceId,
      spanId,
      parentSpanId,
      name,
      kind,
      startTimeUnixNano: at,
      endTimeUnixNano: at.add(r ? variedDuration(r, ms * 1_000_000) : ms * 1_000_000),
      attributes: attrs(a),
      status: { code: 1 },
    });
    const tool = (name: string, callId: string): [Span, Buffer] => {
      const sid = id();
      return [span(sid, root, `execute_tool ${name}`, SpanKind.INTERNAL, 300, { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': name, 'gen_ai.tool.call.id': r ? variedCallId(r, callId) : callId, 'gen_ai.tool.type': 'function' }), sid];
    };
    const httpCall = (parent: Buffer, url: string, host: string, port: number) =>
      span(id(), parent, 'POST', SpanKind.CLIENT, 250, { 'http.request.method': 'POST', 'url.full': url, 'server.address': host, 'server.port': port, 'http.response.status_code': 200 });
    const root = id();
    out.push(span(root, undefined, 'invoke_agent support-agent', SpanKind.INTERNAL, 9_000, { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'support-agent', 'gen_ai.provider.name': 'openai' }));
    out.push(llm());
    at = at.add(1_600_000_000);
    const [kb, kbId] = tool('search_kb', 'call_kb1');
    out.push(withContent(kb, '{"query":"warranty claim process","collection":"faq","top_k":3}', KB_RESULT), httpCall(kbId, 'http://kb.internal:8080/search', 'kb.internal', 8080));
    at = at.add(400_000_000);
    out.push(llm());
    at = at.add(1_600_000_000);
    const [rf, rfId] = tool('read_file', 'call_fs1');
    out.push(withContent(rf, '{"path":"faq/warranty.md"}', FILE_RESULT), span(id(), rfId, 'tools/call read_file', SpanKind.CLIENT, 200, { 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': 'read_file', 'gen_ai.operation.name': 'execute_tool', 'mcp.session.id': '8f2c1e', 'network.transport': 'pipe' }));
    at = at.add(400_000_000);
    out.push(llm());
    at = at.add(1_600_000_000);
    const [tk, tkId] = tool('create_ticket', 'call_tk1');
    out.push(withContent(tk, '{"subject":"Garantie Modell X-3","body":"Kunde bittet um Garantie.\\nRechnung liegt bei."}', '{"ticket":"T-4711","status":"open"}'), httpCall(tkId, 'http://tickets.internal:8081/tickets', 'tickets.internal', 8081));
  }
  return out;
}

/**
 * One bench/loadgen request of `shape` ('llm', 'agent' or 'content') as protobuf bytes, with ids of its own
 * (`seq`) and, with `values` varied (the default), as bench/loadgen's `-values varied`: token counts,
 * tool call ids, timestamps and durations of its own too.
 */
export function loadgenRequest(shape: 'llm' | 'agent' | 'content', seq: number, spans = 100, values: LoadValues = 'varied'): Buffer {
  const r = values === 'varied' ? generator(seq) : undefined;
  const now = r ? NOW.add(Long.fromNumber(seq * STEP_NS, true)) : NOW;
  const data: TracesData = {
    resourceSpans: [
      {
        resource: { attributes: attrs({ 'service.name': 'bench-agent', 'process.pid': 1234, 'host.name': 'bench' }) },
        scopeSpans: [{ scope: { name: 'bench', version: '1' }, spans: shape === 'llm' ? llmSpans(seq, spans, now, r) : agentSpans(seq, spans, now, r, shape === 'content') }],
      },
    ],
  };
  return Buffer.from(tracesCodec.encode(data));
}
