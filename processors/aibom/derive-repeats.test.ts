import { describe, expect, it } from 'vitest';
import { attr, bigIntToLong } from '../../pipeline/otlp/attributes.js';
import type { KeyValue, Span, TracesData } from '../../pipeline/otlp/types.js';
import { CORRELATE_SCOPE } from '../../pipeline/semconv.js';
import { Deriver } from './derive.js';
import { Inventory } from './inventory.js';

// Spans that repeat what the last span of their model, tool or URL showed take a shortcut (only
// their sighting is recorded): what the inventory holds must be what the full path would make.
let n = 0;
const span = (attributes: KeyValue[], parent?: Buffer): Span => {
  n++;
  return {
    traceId: Buffer.from(n.toString(16).padStart(32, '0'), 'hex'),
    spanId: Buffer.from(n.toString(16).padStart(16, '0'), 'hex'),
    parentSpanId: parent ?? Buffer.alloc(0),
    name: 's',
    kind: 1,
    startTimeUnixNano: bigIntToLong(BigInt(1_790_000_000_000 + n) * 1_000_000n),
    endTimeUnixNano: bigIntToLong(BigInt(1_790_000_000_000 + n) * 1_000_000n),
    attributes,
  };
};
const agentSpans = (spans: Span[]): TracesData => ({ resourceSpans: [{ resource: { attributes: [attr('service.name', 'support-agent'), attr('process.pid', 4242)] }, scopeSpans: [{ scope: { name: 'x' }, spans }] }] });
const kernelSpans = (spans: Span[]): TracesData => ({ resourceSpans: [{ resource: { attributes: [attr('process.pid', 4242)] }, scopeSpans: [{ scope: { name: CORRELATE_SCOPE }, spans }] }] });
const llm = (model = 'gpt-4o', address = 'api.openai.com') => span([attr('gen_ai.operation.name', 'chat'), attr('gen_ai.provider.name', 'openai'), attr('gen_ai.request.model', model), attr('server.address', address)]);
const tool = (type: string) => span([attr('gen_ai.operation.name', 'execute_tool'), attr('gen_ai.tool.name', 'read_file'), attr('gen_ai.tool.type', type)]);

function derive(maxRelations = 20) {
  const inventory = new Inventory({ maxEntities: 100, maxEvidence: 3, maxListValues: 10, maxRelations });
  const deriver = new Deriver(inventory, { mcpCommandPatterns: [], ignorePaths: [], environNames: () => undefined, maxOwners: 100, hashExecutable: () => {} });
  return { inventory, deriver, one: (kind: string) => [...inventory.all()].find((e) => e.kind === kind)! };
}

describe('aibom: repeated spans', () => {
  it('count, last seen and evidence of every repeated span; what a later span adds is merged', () => {
    const { deriver, one } = derive();
    const spans = Array.from({ length: 5 }, () => llm());
    deriver.consume(agentSpans(spans));
    const model = one('model');
    expect(model.count).toBe(5);
    expect(model.lastSeenMs).toBe(1_790_000_000_000 + n);
    expect(model.evidence).toEqual(spans.slice(2).map((s) => Buffer.from(s.traceId!).toString('hex')));
    // Same model, another endpoint: not a repeat; both endpoints listed.
    deriver.consume(agentSpans([llm('gpt-4o', 'eu.api.openai.com'), llm('gpt-4o', 'eu.api.openai.com')]));
    expect(model.count).toBe(7);
    expect(model.attributes['aibom-collector:endpoint']).toEqual(['api.openai.com', 'eu.api.openai.com']);
  });

  it('a repeat after another span changed the entity is merged again (the scalar it set comes back)', () => {
    const { deriver, one } = derive();
    deriver.consume(agentSpans([tool('function'), tool('function')]));
    expect(one('tool').attributes['gen_ai.tool.type']).toBe('function');
    // An MCP call of the same tool says it is an extension ...
    deriver.consume(agentSpans([span([attr('mcp.method.name', 'tools/call'), attr('gen_ai.tool.name', 'read_file'), attr('server.address', 'mcp.internal'), attr('server.port', 9000), attr('network.transport', 'tcp')])]));
    expect(one('tool').attributes['gen_ai.tool.type']).toBe('extension');
    // ... and the next tool span, the same as the last one before, says function again, as it always did.
    deriver.consume(agentSpans([tool('function')]));
    expect(one('tool').attributes['gen_ai.tool.type']).toBe('function');
  });

  it('kernel spans under a repeated span find what it stood for', () => {
    const { deriver, inventory, one } = derive();
    const spans = [tool('function'), tool('function'), tool('function')];
    deriver.consume(agentSpans(spans));
    deriver.consume(kernelSpans([span([attr('aibom.kernel.kind', 'connect'), attr('network.peer.address', '10.0.0.9'), attr('network.peer.port', 8443)], spans[2]!.spanId as Buffer)]));
    const reached = one('tool').relations.filter((r) => r.type === 'reaches').map((r) => inventory.get(r.to)!.name);
    expect(reached).toEqual(['10.0.0.9:8443']);
  });

  it('connect, TLS and HTTP kernel spans that repeat: sightings counted, what differs merged, each tool related', () => {
    const { deriver, inventory } = derive();
    const tools = [tool('function'), tool('function')];
    deriver.consume(agentSpans(tools));
    const under = (t: number, kind: string, extra: KeyValue[] = []) => span([attr('aibom.kernel.kind', kind), attr('network.peer.address', '10.0.0.9'), attr('network.peer.port', 8443), ...extra], tools[t]!.spanId as Buffer);
    const http = (t: number, path: string) => under(t, 'http', [attr('http.request.method', 'POST'), attr('url.path', path)]);
    const first = [under(0, 'connect'), under(0, 'connect'), under(0, 'connect')];
    deriver.consume(kernelSpans(first));
    const endpoint = () => [...inventory.all()].find((e) => e.kind === 'endpoint' && e.name === '10.0.0.9:8443')!;
    expect(endpoint().count).toBe(3);
    expect(endpoint().evidence).toEqual(first.map((s) => Buffer.from(s.traceId!).toString('hex')));
    // Another kind and path on the same peer: not a repeat, merged; then repeats of it.
    deriver.consume(kernelSpans([http(0, '/tickets/1'), http(0, '/tickets/1'), http(0, '/search'), under(0, 'tls'), under(0, 'tls')]));
    expect(endpoint().count).toBe(8);
    expect(endpoint().attributes['url.path']).toEqual(['/tickets/{id}', '/search']);
    expect(endpoint().attributes['aibom-collector:tls']).toBe(true);
    // The same peer from the other tool (the same tool entity: one name) and from another process's span under it.
    deriver.consume(kernelSpans([under(1, 'connect')]));
    expect(endpoint().count).toBe(9);
    const toolEntity = [...inventory.all()].find((e) => e.kind === 'tool')!;
    expect(toolEntity.relations.filter((r) => r.type === 'reaches').map((r) => inventory.get(r.to)!.name)).toEqual(['10.0.0.9:8443']);
    // The endpoint alone gone (expired: the tool and agent were seen since) and reached again: made anew, not a sighting of the entity that went.
    const later = tool('function');
    deriver.consume(agentSpans([later]));
    const gone = inventory.expire(toolEntity.lastSeenMs);
    expect(gone.map((e) => e.kind)).toEqual(['endpoint']);
    deriver.consume(kernelSpans([under(0, 'connect')]));
    expect(endpoint().count).toBe(1);
  });

  it('agents that call one model and reach one endpoint in turn: each relates to them, every sighting counted', () => {
    const { deriver, inventory } = derive();
    const batch = (service: string, spans: Span[]): TracesData => ({ resourceSpans: [{ resource: { attributes: [attr('service.name', service), attr('process.pid', service.length)] }, scopeSpans: [{ scope: { name: 'x' }, spans }] }] });
    for (let i = 0; i < 3; i++) for (const service of ['agent-a', 'agent-bb']) deriver.consume(batch(service, [llm()]));
    const model = [...inventory.all()].find((e) => e.kind === 'model')!;
    expect(model.count).toBe(6);
    for (const name of ['agent-a', 'agent-bb']) expect([...inventory.all()].find((e) => e.name === name)!.relations).toContainEqual({ type: 'uses', to: model.id });
  });

  it('a resource repeated batch after batch: the agent and its infrastructure count each sighting, with its time and trace', () => {
    const { deriver, inventory } = derive();
    const resource = (version: string) => [
      attr('service.name', 'support-agent'),
      attr('host.name', 'node-1'),
      attr('process.pid', 4242),
      attr('process.executable.path', '/usr/bin/python3'),
      attr('process.command_args', ['python3', 'agent.py']),
      attr('container.id', 'c0ffee0123456789abcdef'),
      attr('k8s.pod.name', 'agent-0'),
      attr('k8s.namespace.name', 'prod'),
      attr('service.version', version),
    ];
    const batch = (version: string, s: Span): TracesData => ({ resourceSpans: [{ resource: { attributes: resource(version) }, scopeSpans: [{ scope: { name: 'x' }, spans: [s] }] }] });
    const spans: Span[] = [];
    const send = (version: string, s: Span) => {
      spans.push(s);
      deriver.consume(batch(version, s));
    };
    for (let i = 0; i < 4; i++) send('1.0', llm());
    // A batch earlier than the ones before (first seen moves back), then another entity's change between batches.
    const early = llm();
    early.startTimeUnixNano = bigIntToLong(1_780_000_000_000n * 1_000_000n);
    send('1.0', early);
    send('1.0', tool('function'));
    send('1.0', tool('extension'));
    send('1.1', llm());
    send('1.1', llm());
    const hex = (b: Uint8Array | null | undefined) => Buffer.from(b!).toString('hex');
    const times = spans.map((s) => (s === early ? 1_780_000_000_000 : Number(BigInt(s.startTimeUnixNano!.toString()) / 1_000_000n)));
    const entities = [...inventory.all()].filter((e) => e.kind === 'agent' || e.kind === 'infrastructure');
    expect(entities.map((e) => e.name).sort()).toEqual(['/usr/bin/python3', 'c0ffee012345', 'node-1', 'prod/agent-0', 'support-agent']);
    for (const e of entities) {
      expect(e.count).toBe(spans.length);
      expect(e.firstSeenMs).toBe(Math.min(...times));
      expect(e.lastSeenMs).toBe(Math.max(...times));
      expect(e.evidence).toEqual(spans.slice(-3).map((s) => hex(s.traceId)));
      expect(e.first).toEqual({ traceId: hex(spans[0]!.traceId), spanId: hex(spans[0]!.spanId) });
    }
    const agent = entities.find((e) => e.kind === 'agent')!;
    expect(agent.attributes['service.version']).toBe('1.1');
    expect(agent.attributes['process.command_args']).toEqual(['python3 agent.py']);
    expect(agent.relations.filter((r) => r.type === 'runs_in')).toHaveLength(4);
  });

  it('an agent with no room for its infrastructure counts every batch that could not relate it', () => {
    const { deriver, inventory } = derive(1);
    const batch = (s: Span): TracesData => ({ resourceSpans: [{ resource: { attributes: [attr('service.name', 'a'), attr('host.name', 'h'), attr('container.id', 'c1')] }, scopeSpans: [{ scope: { name: 'x' }, spans: [s] }] }] });
    for (let i = 0; i < 3; i++) deriver.consume(batch(span([attr('gen_ai.operation.name', 'invoke_agent')])));
    // The host took the agent's one relation; the container tried in each batch and was counted.
    expect(inventory.overflow).toBe(3);
  });

  it('an agent with no room for another relation counts every span that could not relate', () => {
    const { deriver, inventory } = derive(1);
    deriver.consume(agentSpans([llm('gpt-4o'), llm('gpt-4o-mini'), llm('gpt-4o-mini'), llm('gpt-4o-mini')]));
    // The agent's one relation goes to gpt-4o; each gpt-4o-mini span tried and was counted.
    expect(inventory.overflow).toBe(3);
  });
});
