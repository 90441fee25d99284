import Long from 'long';
import { attr } from '../pipeline/otlp/attributes.js';
import type { Span } from '../pipeline/otlp/types.js';

/**
 * What bench/loadgen sends with `-shape agent` (`agentRequest` in bench/loadgen/main.go), for the
 * in-process benches: `traces` agent-run traces of 10 spans each (the agent's root span, three LLM
 * calls, three tool calls, the HTTP calls of two tools and the MCP call of the third), no content.
 * Ids are made from `seq` and the trace's number, so every request has traces of its own.
 */
export function agentRunSpans(seq: number, traces: number, now: Long = Long.fromNumber(Date.now() * 1e6, true)): Span[] {
  const spans: Span[] = [];
  for (let t = 0; t < traces; t++) {
    const traceId = loadgenId(16, seq, t);
    let n = 0;
    const id = () => loadgenId(8, seq, t * 16 + n++);
    const root = id();
    const span = (name: string, spanId: Buffer, parentSpanId: Buffer | undefined, kind: number, attributes: Span['attributes']) => loadgenSpan(now, name, traceId, spanId, parentSpanId, kind, attributes);
    spans.push(span('invoke_agent support-agent', root, undefined, 1, [attr('gen_ai.operation.name', 'invoke_agent'), attr('gen_ai.agent.name', 'support-agent'), attr('gen_ai.provider.name', 'openai')]));
    for (const [tool, call] of [['search_kb', 'http'], ['read_file', 'mcp'], ['create_ticket', 'http']] as const) {
      spans.push(span('chat gpt-4o', id(), root, 3, [attr('gen_ai.operation.name', 'chat'), attr('gen_ai.provider.name', 'openai'), attr('gen_ai.request.model', 'gpt-4o'), attr('server.address', 'api.openai.com')]));
      const toolId = id();
      spans.push(span(`execute_tool ${tool}`, toolId, root, 1, [attr('gen_ai.operation.name', 'execute_tool'), attr('gen_ai.tool.name', tool), attr('gen_ai.tool.call.id', `call_${tool}`), attr('gen_ai.tool.type', 'function')]));
      if (call === 'http') spans.push(span('POST', id(), toolId, 3, [attr('http.request.method', 'POST'), attr('url.full', `http://${tool}.internal:8080/`), attr('server.address', `${tool}.internal`), attr('server.port', 8080), attr('http.response.status_code', 200)]));
      else spans.push(span('tools/call read_file', id(), toolId, 3, [attr('mcp.method.name', 'tools/call'), attr('gen_ai.tool.name', 'read_file'), attr('gen_ai.operation.name', 'execute_tool'), attr('mcp.session.id', '8f2c1e'), attr('network.transport', 'pipe')]));
    }
  }
  return spans;
}

/** A span from `now` for 1.5 s (every span of the in-process loads, as the provenance bench has always had them), status OK. */
export function loadgenSpan(now: Long, name: string, traceId: Buffer, spanId: Buffer, parentSpanId: Buffer | undefined, kind: number, attributes: Span['attributes']): Span {
  return {
    traceId,
    spanId,
    parentSpanId: parentSpanId ?? new Uint8Array(),
    name,
    kind,
    startTimeUnixNano: now,
    endTimeUnixNano: now.add(1_500_000_000),
    attributes,
    status: { code: 1 },
  };
}

/** A trace or span id of `bytes` bytes ending in `seq` and `i + 1` (big-endian). */
export function loadgenId(bytes: number, seq: number, i: number): Buffer {
  const id = Buffer.alloc(bytes);
  id.writeUInt32BE(seq >>> 0, bytes - 8);
  id.writeUInt32BE(i + 1, bytes - 4);
  return id;
}
