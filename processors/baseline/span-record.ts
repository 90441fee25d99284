import { findAttr, int64ToBigInt } from '../../pipeline/otlp/attributes.js';
import type { KeyValue, Span } from '../../pipeline/otlp/types.js';
import { ATTR } from '../../pipeline/semconv.js';
import { readKernelSpan, type KernelSpanFacts } from '../aibom/kernel-span.js';
import { canonicalView, type CanonicalSpan } from '../normalize/index.js';

/** What the baseline keeps of one span while its trace is open: ids, times and the facts it reads. */
export interface SpanRecord {
  spanId: string;
  parentId: string;
  startNs: bigint;
  endNs: bigint;
  view?: CanonicalSpan;
  kernel?: KernelSpanFacts;
  /** `http.request.body.size` of a kernel http span. */
  bodySize?: number;
  /** The kernel did not watch the process from its start (coverage facts on the kernel span's resource). */
  partialReason?: string;
  /** The first user message of an LLM span, when the agent's spans carry content. */
  prompt?: string;
  /** `service.name` and `host.name` of the span's resource (the agent, for agent spans). */
  serviceName: string;
  hostName?: string;
  evaluated: boolean;
  /** The MCP server a kernel process span stands for (null: none), worked out once: every span under it asks. */
  mcp?: { id: string; kind: 'mcp_server'; name: string } | null;
}

const hex = (b: Uint8Array | undefined | null): string => (b && b.length > 0 ? Buffer.from(b).toString('hex') : '');

/** Undefined for spans that say nothing a profile keeps (chains, HTTP client spans, ...). */
export function spanRecord(span: Span, scopeName: string | undefined, resource: readonly KeyValue[] | undefined): SpanRecord | undefined {
  const kernel = readKernelSpan(span, scopeName);
  const view = kernel ? undefined : canonicalView(span);
  if (!kernel && (!view || (view.kind !== 'llm' && view.kind !== 'tool' && view.kind !== 'agent' && view.kind !== 'retriever'))) return undefined;
  const r: SpanRecord = {
    spanId: hex(span.spanId),
    parentId: hex(span.parentSpanId),
    startNs: int64ToBigInt(span.startTimeUnixNano),
    endNs: int64ToBigInt(span.endTimeUnixNano),
    serviceName: String(findAttr(resource, ATTR.serviceName) ?? 'unknown_service'),
    evaluated: false,
  };
  const host = findAttr(resource, ATTR.hostName);
  if (typeof host === 'string') r.hostName = host;
  if (kernel) {
    r.kernel = kernel;
    const body = findAttr(span.attributes, ATTR.httpRequestBodySize);
    if (body !== undefined) r.bodySize = Number(body);
    // Coverage facts: on the kernel records' resource (receiver/ebpf), and on correlate's process spans.
    const on = findAttr(span.attributes, ATTR.monitorCoverage) !== undefined ? span.attributes : resource;
    if (findAttr(on, ATTR.monitorCoverage) === 'partial') r.partialReason = String(findAttr(on, ATTR.monitorPartialReason) ?? 'partial');
  } else {
    r.view = view;
    if (view!.kind === 'llm') r.prompt = userMessage(span.attributes);
  }
  return r;
}

const OI_MESSAGE = /^llm\.input_messages\.(\d+)\.message\.role$/;
const GENAI_PROMPT = /^gen_ai\.prompt\.(\d+)\.role$/;

/**
 * The first user message: GenAI `gen_ai.input.messages` (JSON, `parts` of type text; OpenLLMetry 0.62
 * writes it), OpenInference `llm.input_messages.N.message.*`, older OpenLLMetry `gen_ai.prompt.N.*`.
 */
function userMessage(attributes: readonly KeyValue[] | undefined): string | undefined {
  const messages = findAttr(attributes, 'gen_ai.input.messages');
  if (typeof messages === 'string') return genAiUserMessage(messages);
  let best: { n: number; key: string } | undefined;
  for (const kv of attributes ?? []) {
    if (kv.value?.stringValue !== 'user') continue;
    const oi = OI_MESSAGE.exec(kv.key);
    const ga = oi ? undefined : GENAI_PROMPT.exec(kv.key);
    const m = oi ?? ga;
    if (!m) continue;
    const n = Number(m[1]);
    if (!best || n < best.n) best = { n, key: oi ? `llm.input_messages.${n}.message.content` : `gen_ai.prompt.${n}.content` };
  }
  if (!best) return undefined;
  const v = findAttr(attributes, best.key);
  return typeof v === 'string' ? v : undefined;
}

function genAiUserMessage(json: string): string | undefined {
  let list: unknown;
  try {
    list = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (!Array.isArray(list)) return undefined;
  const user = list.find((m): m is { parts?: unknown } => typeof m === 'object' && m !== null && (m as { role?: unknown }).role === 'user');
  if (!user || !Array.isArray(user.parts)) return undefined;
  const text = user.parts.filter((p): p is { content: string } => typeof p?.content === 'string' && (p.type === undefined || p.type === 'text')).map((p) => p.content);
  return text.length > 0 ? text.join('\n') : undefined;
}
