import { describe, expect, it } from 'vitest';
import { attr } from '../../pipeline/otlp/attributes.js';
import type { KeyValue, Span, TracesData } from '../../pipeline/otlp/types.js';
import { CORRELATE_SCOPE } from '../../pipeline/semconv.js';
import { Deriver } from './derive.js';
import { Inventory } from './inventory.js';
import { providerOfHost } from './shadow.js';

const PID = 4242;
const resource = [attr('process.pid', PID), attr('process.executable.path', '/usr/bin/python3'), attr('process.command_args', ['python3', 'ask.py', '--api-key', 'sk-REDACTED']), attr('host.name', 'node-1')];
let n = 0;
const span = (attributes: KeyValue[], name = 'k'): Span => ({
  traceId: Buffer.alloc(16, 1),
  spanId: Buffer.from((++n).toString(16).padStart(16, '0'), 'hex'),
  parentSpanId: Buffer.alloc(0),
  name,
  kind: 1,
  startTimeUnixNano: BigInt(Date.now()) * 1_000_000n as never,
  endTimeUnixNano: BigInt(Date.now()) * 1_000_000n as never,
  attributes,
});
const kernel = (spans: Span[], res: KeyValue[] = resource): TracesData => ({ resourceSpans: [{ resource: { attributes: res }, scopeSpans: [{ scope: { name: CORRELATE_SCOPE }, spans }] }] });

function derive() {
  const inventory = new Inventory({ maxEntities: 100, maxEvidence: 5, maxListValues: 10, maxRelations: 20 });
  const deriver = new Deriver(inventory, { mcpCommandPatterns: [], ignorePaths: [], environNames: () => undefined, maxOwners: 100, hashExecutable: () => {} });
  return { inventory, deriver, all: () => [...inventory.all()] };
}

describe('aibom: shadow AI from the sensor signatures', () => {
  it('a client: provider DNS, then the TLS request head and body; entity uninstrumented, with endpoint and model', () => {
    const { deriver, all } = derive();
    deriver.consume(kernel([span([attr('aibom.kernel.kind', 'dns'), attr('dns.question.name', 'api.openai.com'), attr('aibom.shadow.signature', 'provider_dns')])]));
    deriver.consume(kernel([
      span([attr('aibom.kernel.kind', 'tls'), attr('http.request.method', 'POST'), attr('url.path', '/v1/chat/completions'), attr('server.address', 'api.openai.com')]),
      span([attr('aibom.kernel.kind', 'tls'), attr('gen_ai.request.model', 'gpt-4o-mini')]),
    ]));
    const client = all().find((e) => e.attributes['aibom-collector:shadow_ai'] === 'client')!;
    expect(client.kind).toBe('agent');
    expect(client.name).toMatch(/^python3 ask\.py --api-key /);
    expect(client.name).not.toContain('sk-REDACTED');
    expect(client.attributes).toMatchObject({ 'aibom-collector:instrumented': false, 'aibom.shadow.signature': ['provider_dns'], 'server.address': ['api.openai.com'], 'url.path': ['/v1/chat/completions'], 'gen_ai.request.model': ['gpt-4o-mini'], 'process.pid': [String(PID)] });
    const model = all().find((e) => e.kind === 'model')!;
    expect(model.key).toEqual({ 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o-mini' });
    const targets = client.relations.map((r) => `${r.type} ${all().find((e) => e.id === r.to)!.name}`);
    expect(targets).toEqual(expect.arrayContaining(['reaches api.openai.com', 'uses gpt-4o-mini']));
  });

  it('a model server: artifact opened while listening, then its accepted port; merged when the process exports GenAI spans', () => {
    const { deriver, all } = derive();
    deriver.consume(kernel([span([attr('aibom.kernel.kind', 'open'), attr('file.path', '/srv/models/llama-3-8b.Q4.gguf'), attr('aibom.shadow.signature', 'model_artifact')])]));
    deriver.consume(kernel([span([attr('aibom.kernel.kind', 'accept'), attr('network.local.port', 11434), attr('network.peer.address', '10.0.0.7'), attr('network.peer.port', 50000)])]));
    const server = all().find((e) => e.attributes['aibom-collector:shadow_ai'] === 'model_server')!;
    expect(server).toMatchObject({ kind: 'model', name: 'llama-3-8b.Q4.gguf', key: { 'gen_ai.provider.name': 'self_hosted', 'aibom.model.artifact': '/srv/models/llama-3-8b.Q4.gguf', 'host.name': 'node-1' } });
    expect(server.attributes).toMatchObject({ 'aibom-collector:instrumented': false, 'server.port': ['11434'], 'aibom.shadow.signature': ['model_artifact'] });
    // The same process later exports GenAI spans: it is instrumented after all.
    deriver.consume({ resourceSpans: [{ resource: { attributes: [attr('service.name', 'llm-gateway'), attr('process.pid', PID)] }, scopeSpans: [{ scope: { name: 'x' }, spans: [span([attr('gen_ai.operation.name', 'chat'), attr('gen_ai.request.model', 'llama3'), attr('gen_ai.provider.name', 'ollama')], 'chat llama3')] }] }] });
    expect(server.attributes).toMatchObject({ 'aibom-collector:instrumented': true, 'aibom-collector:instrumented_as': ['llm-gateway'] });
  });

  it('an agent exporting GenAI spans here is no shadow client: its own model calls are in the BOM already', () => {
    const { deriver, all } = derive();
    deriver.consume({ resourceSpans: [{ resource: { attributes: [attr('service.name', 'support-agent'), attr('process.pid', PID)] }, scopeSpans: [{ scope: { name: 'x' }, spans: [span([attr('gen_ai.operation.name', 'chat'), attr('gen_ai.request.model', 'gpt-4o'), attr('gen_ai.provider.name', 'openai')], 'chat gpt-4o')] }] }] });
    deriver.consume(kernel([span([attr('aibom.kernel.kind', 'http'), attr('http.request.method', 'POST'), attr('url.path', '/v1/chat/completions'), attr('network.peer.address', '127.0.0.1'), attr('network.peer.port', 8080), attr('aibom.shadow.signature', 'inference_api')])]));
    expect(all().filter((e) => e.attributes['aibom-collector:shadow_ai'] !== undefined)).toEqual([]);
    expect(all().find((e) => e.kind === 'agent')!.attributes['aibom-collector:instrumented']).toBe(true);
  });

  it('ordinary kernel spans of processes no signature matched make no shadow entity', () => {
    const { deriver, all } = derive();
    deriver.consume(kernel([span([attr('aibom.kernel.kind', 'dns'), attr('dns.question.name', 'intranet.example.test')]), span([attr('aibom.kernel.kind', 'open'), attr('file.path', '/srv/models/x.gguf')])]));
    expect(all()).toEqual([]);
  });

  it('provider of a host: API hosts of the list, not look-alikes', () => {
    expect(providerOfHost('api.openai.com')).toBe('openai');
    expect(providerOfHost('acme.openai.azure.com')).toBe('azure.openai');
    expect(providerOfHost('bedrock-runtime.eu-west-1.amazonaws.com')).toBe('aws.bedrock');
    expect(providerOfHost('us-central1-aiplatform.googleapis.com:443')).toBe('gcp.vertex_ai');
    expect(providerOfHost('notopenai.com')).toBeUndefined();
    expect(providerOfHost('127.0.0.1')).toBeUndefined();
  });
});
