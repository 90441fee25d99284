import { attr, bigIntToLong, type AttributeValue } from '../../../pipeline/otlp/attributes.js';
import type { KeyValue, Span, TracesData } from '../../../pipeline/otlp/types.js';
import { SpanKind } from '../../../pipeline/otlp/types.js';
import { CORRELATE_SCOPE } from '../../../pipeline/semconv.js';

/**
 * Agent traces as OTel GenAI semantic conventions with content capture write them (`chat` spans with
 * `gen_ai.system_instructions` / `gen_ai.input.messages`, `execute_tool` spans with
 * `gen_ai.tool.call.arguments` / `gen_ai.tool.call.result`), and the kernel spans processors/correlate
 * puts under tool spans. Each step starts 10 ms after the previous one.
 */
export type Step =
  | { tool: string; args?: unknown; result?: string }
  | { kernel: Record<string, AttributeValue>; kind: string };

export interface TraceSpec {
  traceId: string;
  user: string;
  system?: string;
  steps: Step[];
  service?: string;
  /** Leave content out (content capture off). */
  noContent?: boolean;
}

const T0 = 1_790_000_000_000n;
const ms = (n: number) => bigIntToLong((T0 + BigInt(n)) * 1_000_000n);
const id = (traceId: string, n: number) => Buffer.from(`${traceId.slice(0, 12)}${n.toString(16).padStart(4, '0')}`, 'hex');

function span(traceId: string, n: number, parent: number, name: string, startMs: number, endMs: number, attributes: KeyValue[]): Span {
  return {
    traceId: Buffer.from(traceId, 'hex'),
    spanId: id(traceId, n),
    parentSpanId: parent >= 0 ? id(traceId, parent) : new Uint8Array(),
    name,
    kind: SpanKind.INTERNAL,
    startTimeUnixNano: ms(startMs),
    endTimeUnixNano: ms(endMs),
    attributes,
  };
}

/** The hex span id the builder gives step `i` (tool and kernel steps; the agent span is 0, chat spans 1000+i). */
export const stepSpanId = (traceId: string, i: number): string => id(traceId, i + 1).toString('hex');

export function genAiTrace(spec: TraceSpec): TracesData {
  const { traceId } = spec;
  const agent: Span[] = [span(traceId, 0, -1, 'invoke_agent support', 0, 10_000, [attr('gen_ai.operation.name', 'invoke_agent'), attr('gen_ai.agent.name', 'support')])];
  const kernel: Span[] = [];
  let t = 10;
  let lastTool = -1;
  const messages = JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: spec.user }] }]);
  const system = JSON.stringify([{ type: 'text', content: spec.system ?? 'You are a helpful assistant.' }]);
  spec.steps.forEach((s, i) => {
    if ('tool' in s) {
      const chat = [attr('gen_ai.operation.name', 'chat'), attr('gen_ai.request.model', 'gpt-4o-mini'), attr('gen_ai.provider.name', 'openai')];
      if (!spec.noContent) chat.push(attr('gen_ai.system_instructions', system), attr('gen_ai.input.messages', messages));
      agent.push(span(traceId, 1000 + i, 0, 'chat gpt-4o-mini', t, t + 4, chat));
      const a = [attr('gen_ai.operation.name', 'execute_tool'), attr('gen_ai.tool.name', s.tool)];
      if (!spec.noContent && s.args !== undefined) a.push(attr('gen_ai.tool.call.arguments', typeof s.args === 'string' ? s.args : JSON.stringify(s.args)));
      if (!spec.noContent && s.result !== undefined) a.push(attr('gen_ai.tool.call.result', s.result));
      agent.push(span(traceId, i + 1, 0, `execute_tool ${s.tool}`, t + 5, t + 9, a));
      lastTool = i + 1;
    } else {
      const a = [attr('aibom.kernel.kind', s.kind), ...Object.entries(s.kernel).map(([k, v]) => attr(k, v))];
      kernel.push(span(traceId, i + 1, lastTool, `${s.kind}`, t - 3, t - 2, a));
    }
    t += 10;
  });
  const resource = { attributes: [attr('service.name', spec.service ?? 'support-agent')] };
  return {
    resourceSpans: [
      { resource, scopeSpans: [{ scope: { name: 'opentelemetry.instrumentation.genai' }, spans: agent }] },
      { resource, scopeSpans: [{ scope: { name: CORRELATE_SCOPE }, spans: kernel }] },
    ],
  };
}
