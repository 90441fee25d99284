import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { ConfigErrors, Section } from '../../pipeline/config/section.js';
import type { Consumers } from '../../pipeline/consumer.js';
import { PermanentError } from '../../pipeline/consumer.js';
import { attr, findStringAttr } from '../../pipeline/otlp/attributes.js';
import { tracesCodec } from '../../pipeline/otlp/codec.js';
import type { KeyValue, Span, TracesData } from '../../pipeline/otlp/types.js';
import { silentLogger } from '../../pipeline/telemetry/logger.js';
import { Metrics } from '../../pipeline/telemetry/metrics.js';
import { canonicalView } from './canonical.js';
import { createDefaultConfig, readConfig } from './config.js';
import { normalizeProcessorFactory } from './factory.js';
import { OWN_KEYS } from './processor.js';
import { createHost } from '../../pipeline/host.js';

function fixture(name: string): TracesData {
  return tracesCodec.fromJson(readFileSync(new URL(`./testdata/${name}`, import.meta.url), 'utf8'));
}

const FIXTURES = [
  'gen-ai-semconv.json',
  'mcp-semconv.json',
  'langsmith-otel.json',
  'openinference-semconv.json',
  'openinference-langchain-js.json',
  'openllmetry-legacy.json',
  'openllmetry-langchain-py.json',
];

function allSpans(data: TracesData): Span[] {
  return data.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
}

function ownAttrs(span: Span): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of span.attributes ?? []) if (kv.key.startsWith('aibom.')) out[kv.key] = kv.value?.stringValue ?? '?';
  return out;
}

function readSection(raw: unknown): { errors: string[] } {
  const errors = new ConfigErrors();
  const section = new Section(raw, 'processors.normalize', errors);
  normalizeProcessorFactory.readConfig(section);
  section.done();
  return { errors: errors.list };
}

class Sink {
  received: TracesData[] = [];
  fail: Error | undefined;
  readonly consumers: Consumers = {
    traces: {
      consume: async (d) => {
        if (this.fail) throw this.fail;
        this.received.push(d);
      },
    },
  };
}

function setup(metrics = new Metrics(), id = 'normalize') {
  const sink = new Sink();
  const p = normalizeProcessorFactory.create({ id, name: id.split('/')[1] ?? '', logger: silentLogger(), metrics }, createDefaultConfig(), sink.consumers);
  return { p, sink, metrics };
}

describe('normalize config', () => {
  it('has no keys: empty, absent and the testdata config are valid', () => {
    expect(readSection(undefined).errors).toEqual([]);
    expect(readSection(null).errors).toEqual([]);
    expect(readSection({}).errors).toEqual([]);
    const yaml = YAML.parse(readFileSync(new URL('./testdata/config.yaml', import.meta.url), 'utf8'));
    expect(readSection(yaml).errors).toEqual([]);
    expect(readConfig(new Section({}, 'x', new ConfigErrors()))).toEqual({});
  });

  it('rejects any key, naming it', () => {
    expect(readSection({ add_attributes: false }).errors).toEqual(['processors.normalize: has invalid keys: add_attributes']);
    expect(readSection('yes').errors).toEqual(['processors.normalize: expected a map, got string "yes"']);
  });

  it('is a traces-only processor of type normalize', () => {
    expect(normalizeProcessorFactory.type).toBe('normalize');
    expect(normalizeProcessorFactory.kind).toBe('processor');
    expect(normalizeProcessorFactory.signals).toEqual(['traces']);
  });
});

describe('normalize processor', () => {
  it('adds aibom.* to recognised spans and changes nothing else, handing on the same batch', async () => {
    const { p, sink } = setup();
    for (const name of FIXTURES) {
      const data = fixture(name);
      const before = fixture(name); // a second, untouched decode
      await p.traces!.consume(data);
      expect(sink.received.at(-1)).toBe(data);
      expect(data.resourceSpans.length).toBe(before.resourceSpans.length);
      const [now, was] = [allSpans(data), allSpans(before)];
      expect(now.length).toBe(was.length);
      now.forEach((span, i) => {
        const orig = was[i]!;
        const { attributes, ...rest } = span;
        const { attributes: origAttributes, ...origRest } = orig;
        expect(rest).toEqual(origRest);
        // The original attributes, in order, then ours.
        const n = origAttributes?.length ?? 0;
        expect(attributes?.slice(0, n) ?? []).toEqual(origAttributes ?? []);
        const added = (attributes ?? []).slice(n);
        for (const kv of added) expect(OWN_KEYS).toContain(kv.key);
        const view = canonicalView(orig);
        if (!view) expect(added).toEqual([]);
        else {
          expect(findStringAttr(added, 'aibom.normalize.source')).toBe(view.source);
          expect(findStringAttr(added, 'aibom.span.kind')).toBe(view.kind === 'other' ? undefined : view.kind);
          expect(findStringAttr(added, 'aibom.model.name')).toBe(view.modelName);
          expect(findStringAttr(added, 'aibom.model.provider')).toBe(view.provider);
          expect(findStringAttr(added, 'aibom.tool.name')).toBe(view.toolName);
          expect(findStringAttr(added, 'aibom.agent.name')).toBe(view.agentName);
          expect(findStringAttr(added, 'aibom.mcp.method')).toBe(view.mcpMethod);
          expect(findStringAttr(added, 'aibom.data_source.id')).toBe(view.dataSourceId);
        }
      });
      // What leaves still encodes as OTLP.
      expect(tracesCodec.count(tracesCodec.decode(tracesCodec.encode(data)))).toBe(now.length);
    }
  });

  it('writes the expected attributes on an MCP server span and a captured OpenInference LLM span', async () => {
    const { p } = setup();
    const mcp = fixture('mcp-semconv.json');
    const oi = fixture('openinference-langchain-js.json');
    await p.traces!.consume(mcp);
    await p.traces!.consume(oi);
    expect(ownAttrs(mcp.resourceSpans[1]!.scopeSpans[0]!.spans[0]!)).toEqual({
      'aibom.span.kind': 'mcp_server',
      'aibom.tool.name': 'get-weather',
      'aibom.mcp.method': 'tools/call',
      'aibom.normalize.source': 'mcp',
    });
    expect(ownAttrs(allSpans(oi).find((s) => s.name === 'ChatOpenAI')!)).toEqual({
      'aibom.span.kind': 'llm',
      'aibom.model.name': 'gpt-4o-mini',
      'aibom.model.provider': 'openai',
      'aibom.normalize.source': 'openinference',
    });
    expect(ownAttrs(allSpans(oi).find((s) => s.name === 'agent.run')!)).toEqual({});
  });

  it('`other` spans get their source but no aibom.span.kind', async () => {
    const { p } = setup();
    const data = fixture('openinference-semconv.json');
    await p.traces!.consume(data);
    expect(ownAttrs(allSpans(data).find((s) => s.name === 'input_guardrail')!)).toEqual({ 'aibom.normalize.source': 'openinference' });
  });

  it('replaces values of its keys the span already carried, and removes them from spans it does not recognise', async () => {
    const { p } = setup();
    const spoofed: KeyValue[] = [attr('gen_ai.operation.name', 'execute_tool'), attr('gen_ai.tool.name', 'calc'), attr('aibom.span.kind', 'agent'), attr('aibom.model.name', 'fake'), attr('other', 1)];
    const plain: KeyValue[] = [attr('db.system.name', 'postgresql'), attr('aibom.tool.name', 'fake')];
    const mk = (name: string, attributes: KeyValue[]): Span => ({ traceId: new Uint8Array(16), spanId: new Uint8Array(8), name, kind: 1, startTimeUnixNano: 0, endTimeUnixNano: 0, attributes });
    const data: TracesData = { resourceSpans: [{ scopeSpans: [{ spans: [mk('a', spoofed), mk('b', plain), mk('c', [])] }] }] };
    await p.traces!.consume(data);
    const [a, b, c] = allSpans(data);
    expect(a!.attributes!.map((kv) => kv.key)).toEqual(['gen_ai.operation.name', 'gen_ai.tool.name', 'other', 'aibom.span.kind', 'aibom.tool.name', 'aibom.normalize.source']);
    expect(ownAttrs(a!)).toEqual({ 'aibom.span.kind': 'tool', 'aibom.tool.name': 'calc', 'aibom.normalize.source': 'gen_ai' });
    expect(b!.attributes).toEqual([attr('db.system.name', 'postgresql')]);
    expect(c!.attributes).toEqual([]);
  });

  it('is idempotent: normalising twice gives the same spans', async () => {
    const { p } = setup();
    const once = fixture('openllmetry-langchain-py.json');
    await p.traces!.consume(once);
    const snapshot = tracesCodec.toJson(once);
    await p.traces!.consume(once);
    expect(tracesCodec.toJson(once)).toBe(snapshot);
  });

  it('counts spans by kind and source, per component, with instances sharing one registry', async () => {
    const metrics = new Metrics();
    const a = setup(metrics, 'normalize');
    const b = setup(metrics, 'normalize/second');
    await a.p.traces!.consume(fixture('mcp-semconv.json'));
    await a.p.traces!.consume(fixture('openinference-langchain-js.json'));
    await b.p.traces!.consume(fixture('gen-ai-semconv.json'));
    const spans = metrics.registry.getSingleMetric('aibom_normalize_spans_total') as Parameters<Metrics['value']>[0];
    expect(await metrics.value(spans, { component: 'normalize', kind: 'mcp_client', source: 'mcp' })).toBe(4);
    expect(await metrics.value(spans, { component: 'normalize', kind: 'mcp_server', source: 'mcp' })).toBe(2);
    expect(await metrics.value(spans, { component: 'normalize', kind: 'none', source: 'none' })).toBe(1); // agent.run
    expect(await metrics.value(spans, { component: 'normalize', kind: 'llm', source: 'openinference' })).toBe(allSpans(fixture('openinference-langchain-js.json')).filter((s) => s.name === 'ChatOpenAI').length);
    expect(await metrics.value(spans, { component: 'normalize/second' })).toBe(10);
    expect(await metrics.value(spans, { component: 'normalize/second', kind: 'llm', source: 'gen_ai' })).toBe(5);
  });

  it('passes a span it cannot handle on unchanged, counts and goes on with the rest', async () => {
    const { p, sink, metrics } = setup();
    const bad: Span = {
      traceId: new Uint8Array(16),
      spanId: new Uint8Array(8),
      name: 'chat',
      startTimeUnixNano: 0,
      endTimeUnixNano: 0,
      // A 64-bit value that cannot be read (not a Long, number or string).
      attributes: [attr('gen_ai.operation.name', 'chat'), { key: 'gen_ai.usage.input_tokens', value: { intValue: { toNumber: () => { throw new Error('bad int64'); } } as never } }],
    };
    const good = fixture('gen-ai-semconv.json');
    good.resourceSpans[0]!.scopeSpans[0]!.spans.unshift(bad);
    const badAttrs = [...bad.attributes!];
    await p.traces!.consume(good);
    expect(sink.received).toHaveLength(1);
    expect(bad.attributes).toEqual(badAttrs);
    expect(ownAttrs(good.resourceSpans[0]!.scopeSpans[0]!.spans[1]!)['aibom.span.kind']).toBe('agent');
    const failed = metrics.registry.getSingleMetric('aibom_normalize_failed_spans_total') as Parameters<Metrics['value']>[0];
    expect(await metrics.value(failed, { component: 'normalize', reason: 'exception' })).toBe(1);
  });

  it("returns the next consumer's error to the caller", async () => {
    const { p, sink } = setup();
    sink.fail = new PermanentError('rejected');
    await expect(p.traces!.consume(fixture('gen-ai-semconv.json'))).rejects.toBeInstanceOf(PermanentError);
  });

  it('rejects when the pipeline gave it no next consumer', async () => {
    const p = normalizeProcessorFactory.create({ id: 'normalize', name: '', logger: silentLogger(), metrics: new Metrics() }, {}, {});
    await expect(p.traces!.consume({ resourceSpans: [] })).rejects.toThrow(/no next consumer for traces/);
    expect(p.logs).toBeUndefined();
  });

  it('start and shutdown: shutdown without start, twice, and spans still pass after it', async () => {
    const { p, sink } = setup();
    await p.shutdown();
    await p.shutdown();
    await p.start(createHost());
    await p.shutdown();
    await p.traces!.consume({ resourceSpans: [] });
    expect(sink.received).toHaveLength(1);
  });
});
