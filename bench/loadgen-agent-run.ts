import Long from 'long';
import { attr } from '../pipeline/otlp/attributes.js';
import type { Span } from '../pipeline/otlp/types.js';

/**
 * What bench/loadgen sends with `-shape agent` (`agentRequest` in bench/loadgen/main.go), for the
 * in-process benches: `traces` agent-run traces of 10 spans each (the agent's root span, three LLM
 * calls, three tool calls, the HTTP calls of two tools and the MCP call of the third), no content.
 * Ids are made from `seq` and the trace's number, so every request has traces of its own. With
 * `values` varied (the default), as bench/loadgen's `-values varied`: the tool call ids and the
 * spans' durations differ per request too.
 */
export function agentRunSpans(seq: number, traces: number, now: Long = Long.fromNumber(Date.now() * 1e6, true), values: LoadValues = 'varied'): Span[] {
  const spans: Span[] = [];
  const r = values === 'varied' ? generator(seq) : undefined;
  for (let t = 0; t < traces; t++) {
    const traceId = loadgenId(16, seq, t);
    let n = 0;
    const id = () => loadgenId(8, seq, t * 16 + n++);
    const root = id();
    const span = (name: string, spanId: Buffer, parentSpanId: Buffer | undefined, kind: number, attributes: Span['attributes']) =>
      loadgenSpan(now, name, traceId, spanId, parentSpanId, kind, attributes, r ? variedDuration(r, SPAN_NS) : SPAN_NS);
    spans.push(span('invoke_agent support-agent', root, undefined, 1, [attr('gen_ai.operation.name', 'invoke_agent'), attr('gen_ai.agent.name', 'support-agent'), attr('gen_ai.provider.name', 'openai')]));
    for (const [tool, call] of [['search_kb', 'http'], ['read_file', 'mcp'], ['create_ticket', 'http']] as const) {
      spans.push(span('chat gpt-4o', id(), root, 3, [attr('gen_ai.operation.name', 'chat'), attr('gen_ai.provider.name', 'openai'), attr('gen_ai.request.model', 'gpt-4o'), attr('server.address', 'api.openai.com')]));
      const toolId = id();
      spans.push(span(`execute_tool ${tool}`, toolId, root, 1, [attr('gen_ai.operation.name', 'execute_tool'), attr('gen_ai.tool.name', tool), attr('gen_ai.tool.call.id', r ? variedCallId(r, `call_${tool}`) : `call_${tool}`), attr('gen_ai.tool.type', 'function')]));
      if (call === 'http') spans.push(span('POST', id(), toolId, 3, [attr('http.request.method', 'POST'), attr('url.full', `http://${tool}.internal:8080/`), attr('server.address', `${tool}.internal`), attr('server.port', 8080), attr('http.response.status_code', 200)]));
      else spans.push(span('tools/call read_file', id(), toolId, 3, [attr('mcp.method.name', 'tools/call'), attr('gen_ai.tool.name', 'read_file'), attr('gen_ai.operation.name', 'execute_tool'), attr('mcp.session.id', '8f2c1e'), attr('network.transport', 'pipe')]));
    }
  }
  return spans;
}

const SPAN_NS = 1_500_000_000;

/** A span from `now` for `durationNs` (1.5 s: every span of the in-process loads, as the provenance bench has always had them), status OK. */
export function loadgenSpan(now: Long, name: string, traceId: Buffer, spanId: Buffer, parentSpanId: Buffer | undefined, kind: number, attributes: Span['attributes'], durationNs = SPAN_NS): Span {
  return {
    traceId,
    spanId,
    parentSpanId: parentSpanId ?? new Uint8Array(),
    name,
    kind,
    startTimeUnixNano: now,
    endTimeUnixNano: now.add(durationNs),
    attributes,
    status: { code: 1 },
  };
}

/**
 * varied: what differs on every call of a real agent differs per request (bench/loadgen/varied.go has
 * the list and the reasons), in values of the width of the fixed ones; fixed: only the ids do (the
 * loads before, whose other values repeated on every request).
 */
export type LoadValues = 'varied' | 'fixed';

/** `--values` of the CLIs that forward it. */
export function loadValues(flag: string | undefined): LoadValues {
  if (flag === undefined || flag === 'varied' || flag === 'fixed') return flag ?? 'varied';
  throw new Error(`--values: varied or fixed, got ${flag}`);
}

/** uint32s that are a function of `seed` (a request's sequence number), so a run is reproducible: Mulberry32. */
export function generator(seed: number): () => number {
  let s = (seed ^ 0x9e3779b9) >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let z = Math.imul(s ^ (s >>> 15), s | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return (z ^ (z >>> 14)) >>> 0;
  };
}

/** 70–100% of `ns`: never longer, so spans still end where the fixed ones did at the latest. */
export const variedDuration = (r: () => number, ns: number): number => ns - Math.floor(ns / 1000) * (r() % 300);

/** Token counts of one varint width each, as the fixed ones (812 and 96): 128..16383 and 1..127. */
export const variedInputTokens = (r: () => number): number => 128 + (r() % (16384 - 128));
export const variedOutputTokens = (r: () => number): number => 1 + (r() % 127);

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** A tool call id as long as `id`: its `call_` prefix and new characters after it. */
export function variedCallId(r: () => number, id: string): string {
  let out = 'call_';
  while (out.length < id.length) out += ALNUM[r() % ALNUM.length];
  return out;
}

/** A trace or span id of `bytes` bytes ending in `seq` and `i + 1` (big-endian). */
export function loadgenId(bytes: number, seq: number, i: number): Buffer {
  const id = Buffer.alloc(bytes);
  id.writeUInt32BE(seq >>> 0, bytes - 8);
  id.writeUInt32BE(i + 1, bytes - 4);
  return id;
}
