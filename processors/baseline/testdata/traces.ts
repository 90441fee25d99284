import { attr, attrs, bigIntToLong, type AttributeValue } from '../../../pipeline/otlp/attributes.js';
import type { Span, TracesData } from '../../../pipeline/otlp/types.js';
import { ATTR, CORRELATE_SCOPE } from '../../../pipeline/semconv.js';

/**
 * Small traces of the reference scenario as the baseline sees them: the agent's OpenInference spans
 * (resource `support-agent`) and correlate's kernel spans under them. Ids are short hex strings.
 */
export interface TestSpan {
  id: string;
  parent?: string;
  name: string;
  ms?: number;
  kernel?: boolean;
  attributes: Record<string, AttributeValue | undefined>;
}

const id = (s: string, bytes: number) => Buffer.from(s.padStart(bytes * 2, '0'), 'hex');
const T0 = 1_790_000_000_000n;

export function trace(traceId: string, list: TestSpan[], resource: Record<string, AttributeValue | undefined> = {}): TracesData {
  const make = (s: TestSpan): Span => ({
    traceId: id(traceId, 16),
    spanId: id(s.id, 8),
    parentSpanId: s.parent ? id(s.parent, 8) : Buffer.alloc(0),
    name: s.name,
    kind: 1,
    startTimeUnixNano: bigIntToLong((T0 + BigInt(s.ms ?? 0)) * 1_000_000n),
    endTimeUnixNano: bigIntToLong((T0 + BigInt((s.ms ?? 0) + 1)) * 1_000_000n),
    attributes: attrs(s.attributes),
    status: { code: 0 },
  });
  return {
    resourceSpans: [
      { resource: { attributes: [attr(ATTR.serviceName, 'support-agent'), attr(ATTR.hostName, 'vm')] }, scopeSpans: [{ scope: { name: 'test' }, spans: list.filter((s) => !s.kernel).map(make) }] },
      { resource: { attributes: attrs({ [ATTR.serviceName]: 'support-agent', [ATTR.hostName]: 'vm', ...resource }) }, scopeSpans: [{ scope: { name: CORRELATE_SCOPE }, spans: list.filter((s) => s.kernel).map(make) }] },
    ],
  };
}

export const llm = (spanId: string, ms: number, model = 'gpt-4o-mini', prompt = 'How do I reset my password?'): TestSpan => ({
  id: spanId,
  parent: 'a0',
  name: 'ChatOpenAI',
  ms,
  attributes: { 'openinference.span.kind': 'LLM', 'llm.model_name': model, 'llm.provider': 'openai', 'llm.input_messages.0.message.role': 'system', 'llm.input_messages.0.message.content': 'You help.', 'llm.input_messages.1.message.role': 'user', 'llm.input_messages.1.message.content': prompt },
});

export const tool = (spanId: string, ms: number, name: string, args: unknown): TestSpan => ({
  id: spanId,
  parent: 'a0',
  name,
  ms,
  attributes: { 'openinference.span.kind': 'TOOL', 'tool.name': name, 'input.value': typeof args === 'string' ? args : JSON.stringify(args) },
});

export const root: TestSpan = { id: 'a0', name: 'agent.run', ms: 0, attributes: { 'openinference.span.kind': 'AGENT' } };

export function kernel(spanId: string, parent: string, kind: string, attributes: Record<string, AttributeValue | undefined>): TestSpan {
  return { id: spanId, parent, name: `${kind} span`, kernel: true, ms: 50, attributes: { [ATTR.kernelKind]: kind, ...attributes } };
}
