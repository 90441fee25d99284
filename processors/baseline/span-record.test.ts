import { describe, expect, it } from 'vitest';
import { attrs, bigIntToLong } from '../../pipeline/otlp/attributes.js';
import { tracesCodec } from '../../pipeline/otlp/codec.js';
import { endMicros, spanIds, startMicros } from '../../pipeline/otlp/span-view.js';
import type { KeyValue, Span } from '../../pipeline/otlp/types.js';
import type { CanonicalSpan } from '../normalize/index.js';
import { endUs, isParentOf, parentIdOf, readPrompt, recordView, resourceFacts, spanIdOf, spanRecord, startUs } from './span-record.js';

const view = (over: Partial<CanonicalSpan>): CanonicalSpan => ({ kind: 'llm', source: 'gen_ai', modelName: 'gpt-4o', provider: 'openai', serverAddress: 'api.openai.com', inputTokens: 12, ...over });

describe('recordView', () => {
  it('keeps the fields the baseline reads, with the view\'s values', () => {
    const v = view({ requestModel: 'gpt-4o-mini', toolName: 't', dataSourceId: 'ds' });
    expect(recordView(v)).toEqual({ kind: 'llm', modelName: 'gpt-4o', requestModel: 'gpt-4o-mini', provider: 'openai', toolName: 't', toolArguments: undefined, dataSourceId: 'ds' });
  });

  it('is one shared frozen object for views with the same kept values, whatever else they differ in', () => {
    const a = recordView(view({ inputTokens: 1, conversationId: 'c1' }));
    const b = recordView(view({ inputTokens: 2, conversationId: 'c2', serverPort: 443 }));
    expect(b).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
  });

  it('differs when any kept value or the kind differs', () => {
    const base = recordView(view({}));
    for (const over of [{ modelName: 'gpt-4.1' }, { requestModel: 'x' }, { provider: 'azure.openai' }, { toolName: 'search' }, { dataSourceId: 'd' }, { kind: 'tool' as const }]) {
      const r = recordView(view(over));
      expect(r).not.toBe(base);
      expect(r).toMatchObject(over);
    }
  });

  it('gives a span with tool arguments its own', () => {
    const v = view({ kind: 'tool', toolName: 'read_file', toolArguments: '{"path":"/etc/passwd"}' });
    const a = recordView(v);
    expect(a.toolArguments).toBe('{"path":"/etc/passwd"}');
    expect(recordView(v)).not.toBe(a);
  });

  it('still finds the right values after more distinct sets than it keeps per kind', () => {
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 20; i++) expect(recordView(view({ modelName: `m${i}` })).modelName).toBe(`m${i}`);
    }
  });
});

describe('spanRecord ids and times', () => {
  // xorshift32: the same spans every run.
  let seed = 11;
  const random = (n: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => (random(4) === 0 ? [0, 0xff, 0x80, 0x7f][random(4)]! : random(256))));
  /** Mostly 8-byte ids (high bits set too), some empty, some of another length (invalid in OTLP, kept as hex). */
  const someId = () => bytes([8, 8, 8, 8, 8, 0, 4, 16][random(8)]!);
  /** Nanoseconds: today's, 0, near 2^53 µs, and the full unsigned 64-bit range (read through a BigInt). */
  const someTime = (): bigint => {
    const pick = random(5);
    if (pick === 0) return 0n;
    if (pick === 1) return BigInt(2 ** 53 - 1 - random(1000)) * 1000n + BigInt(random(1000));
    if (pick === 2) return BigInt.asUintN(64, BigInt(random(2 ** 31)) * 2n ** 33n + BigInt(random(2 ** 31)));
    return 1_790_000_000_000_000_000n + BigInt(random(2 ** 30)) * 1_000_003n + BigInt(random(1000));
  };
  const spans = (): Span[] => {
    const out: Span[] = [];
    for (let i = 0; i < 400; i++) {
      // Some spans name an earlier span's id as their parent, as a trace does.
      const parent = out.length > 0 && random(2) === 0 ? Buffer.from(out[random(out.length)]!.spanId as Uint8Array) : someId();
      out.push({ traceId: bytes(16), spanId: someId(), parentSpanId: parent, name: 'chat', kind: 3, startTimeUnixNano: bigIntToLong(someTime()), endTimeUnixNano: bigIntToLong(someTime()), attributes: attrs({ 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.provider.name': 'openai' }) });
    }
    return out;
  };

  it('reads back, from a received span and from an object, the hex ids, the times and the parent links the span has', () => {
    const objects = spans();
    const received = tracesCodec.decodeReceived(Buffer.from(tracesCodec.encode({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: 'test' }, spans: objects }] }] }))).resourceSpans[0]!.scopeSpans[0]!.spans;
    for (const list of [objects, received]) {
      const resource = resourceFacts(undefined);
      const records = list.map((s) => spanRecord(s, 'test', resource)!);
      for (let i = 0; i < list.length; i++) {
        const ids = spanIds(list[i]!);
        const r = records[i]!;
        expect([spanIdOf(r), parentIdOf(r), startUs(r), endUs(r)]).toEqual([ids.spanId, ids.parentSpanId, startMicros(list[i]!), endMicros(list[i]!)]);
        for (let j = 0; j < list.length; j += 7) expect(isParentOf(records[j]!, r)).toBe(spanIds(list[j]!).spanId === ids.parentSpanId);
      }
    }
  });
});

describe('resourceFacts', () => {
  const resource = (a: Record<string, string | number>) => attrs(a);

  it('is one object for resources with the same facts, whatever else they carry', () => {
    const a = resourceFacts(resource({ 'service.name': 'rf-agent', 'host.name': 'h1', 'process.pid': 1 }));
    const b = resourceFacts(resource({ 'service.name': 'rf-agent', 'host.name': 'h1', 'process.pid': 2 }));
    expect(b).toBe(a);
    expect(b).toMatchObject({ serviceName: 'rf-agent', hostName: 'h1', coverage: undefined, partialReason: undefined });
  });

  it('differs when any of its four values differs, and keeps each one\'s values', () => {
    const base = { 'service.name': 'rf-other', 'host.name': 'h1' };
    const first = resourceFacts(resource(base));
    const variants = [
      { ...base, 'service.name': 'rf-other-2' },
      { 'service.name': 'rf-other' },
      { ...base, 'aibom.monitor.coverage': 'partial' },
      { ...base, 'aibom.monitor.coverage': 'partial', 'aibom.monitor.partial_reason': 'attached_late' },
    ];
    const made = variants.map((v) => resourceFacts(resource(v)));
    expect(new Set([first, ...made]).size).toBe(5);
    expect(made.map((f) => [f.serviceName, f.hostName, f.coverage, f.partialReason])).toEqual([
      ['rf-other-2', 'h1', undefined, undefined],
      ['rf-other', undefined, undefined, undefined],
      ['rf-other', 'h1', 'partial', undefined],
      ['rf-other', 'h1', 'partial', 'attached_late'],
    ]);
    // Past RECENT_RESOURCES others, a new object with the same values again.
    for (let i = 0; i < 8; i++) resourceFacts(resource({ 'service.name': `rf-filler-${i}` }));
    const again = resourceFacts(resource(base));
    expect(again).not.toBe(first);
    expect(again).toMatchObject({ serviceName: 'rf-other', hostName: 'h1', coverage: undefined, partialReason: undefined });
  });

  it('never shares facts whose coverage is not a primitive value', () => {
    const list = [{ key: 'service.name', value: { stringValue: 'rf-kv' } }, { key: 'aibom.monitor.coverage', value: { arrayValue: { values: [{ stringValue: 'partial' }] } } }];
    expect(resourceFacts(list)).not.toBe(resourceFacts(list));
  });
});

describe('readPrompt: an LLM span\'s first user message', () => {
  const llmSpan = (attributes: KeyValue[]): Span => ({ traceId: Buffer.alloc(16, 1), spanId: Buffer.alloc(8, 2), name: 'ChatOpenAI', kind: 1, startTimeUnixNano: 1, endTimeUnixNano: 2, attributes: [...attrs({ 'openinference.span.kind': 'LLM', 'llm.model_name': 'gpt-4o' }), ...attributes] });
  const promptOf = (span: Span): string | undefined => {
    const r = spanRecord(span, 'test', resourceFacts(undefined))!;
    readPrompt(r, span, undefined);
    return r.rare?.prompt;
  };
  /** The prompt from the span as an object and as received bytes. */
  const both = (attributes: KeyValue[]): (string | undefined)[] => {
    const span = llmSpan(attributes);
    const received = tracesCodec.decodeReceived(Buffer.from(tracesCodec.encode({ resourceSpans: [{ scopeSpans: [{ spans: [span] }] }] }))).resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    return [promptOf(span), promptOf(received)];
  };
  const conversation = attrs({
    'llm.input_messages.3.message.role': 'user',
    'llm.input_messages.3.message.content': 'a later question',
    'llm.input_messages.0.message.role': 'system',
    'llm.input_messages.0.message.content': 'You help.',
    'llm.input_messages.1.message.role': 'user',
    'llm.input_messages.1.message.content': 'the first question',
    'llm.input_messages.2.message.role': 'assistant',
    'llm.input_messages.2.message.content': 'an answer',
  });

  it('OpenInference indexed messages: the lowest-numbered user message, whatever the attribute order', () => {
    expect(both(conversation)).toEqual(['the first question', 'the first question']);
    expect(both(conversation.filter((kv) => kv.key !== 'llm.input_messages.1.message.content'))).toEqual([undefined, undefined]);
    // The first occurrence of the content key counts, a non-string one too (then there is no prompt).
    expect(both([...conversation, ...attrs({ 'llm.input_messages.1.message.content': 'again' })])).toEqual(['the first question', 'the first question']);
    expect(both([...attrs({ 'llm.input_messages.1.message.content': 7 }), ...conversation])).toEqual([undefined, undefined]);
    expect(both(attrs({ 'gen_ai.prompt.0.role': 'user', 'gen_ai.prompt.0.content': 'legacy' }))).toEqual(['legacy', 'legacy']);
  });

  it("reads only the chosen message's content, not the rest of the conversation", () => {
    const read: string[] = [];
    const counted = conversation.map((kv): KeyValue => ({
      key: kv.key,
      get value() {
        read.push(kv.key);
        return kv.value;
      },
    }));
    const span = llmSpan(counted);
    const r = spanRecord(span, 'test', resourceFacts(undefined))!;
    read.length = 0;
    readPrompt(r, span, undefined);
    expect(r.rare?.prompt).toBe('the first question');
    expect(read.filter((k) => k.endsWith('.content'))).toEqual(['llm.input_messages.1.message.content']);
  });
});
