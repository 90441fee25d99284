import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, realpathSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { describe, expect, it } from 'vitest';
import { ConfigErrors, Section } from '../../pipeline/config/section.js';
import { AdminRoutes } from '../../pipeline/admin-routes.js';
import { createHost } from '../../pipeline/host.js';
import { fromAnyValue } from '../../pipeline/otlp/attributes.js';
import { tracesCodec } from '../../pipeline/otlp/codec.js';
import { asReceived, decodedSpans } from '../../pipeline/otlp/testdata/received.js';
import type { LogRecord, TracesData } from '../../pipeline/otlp/types.js';
import { silentLogger } from '../../pipeline/telemetry/logger.js';
import { PipelineSink } from '../../pipeline/testdata/pipeline-sink.js';
import { Metrics } from '../../pipeline/telemetry/metrics.js';
import { AibomProcessor } from './aibom-processor.js';
import { readBom } from './bom-reader.js';
import { createDefaultConfig, type AibomConfig } from './config.js';
import { toCycloneDx } from './cyclonedx.js';
import { diffBoms } from './diff.js';
import { entityId } from './entity.js';
import { aibomProcessorFactory } from './factory.js';
import { Inventory } from './inventory.js';
import { filePattern, mcpPackage, pathPattern } from './patterns.js';
import { loadInventory, saveInventory, StoreError } from './store.js';

const testdata = (name: string) => new URL(`./testdata/${name}`, import.meta.url);

/** The reference scenario's LangChain.js attack run as the collector exported it (agent + kernel spans). */
function reference(): TracesData[] {
  return readFileSync(testdata('reference-js.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => tracesCodec.fromJson(l));
}

async function waitFor<T>(check: () => T | undefined, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const attrsOf = (r: LogRecord) => Object.fromEntries((r.attributes ?? []).map((kv) => [kv.key, fromAnyValue(kv.value)])) as Record<string, any>;

function make(config: Partial<AibomConfig> = {}, sink = new PipelineSink(), metrics = new Metrics()) {
  const p = new AibomProcessor({ id: 'aibom', name: '', logger: silentLogger(), metrics }, { ...createDefaultConfig(), ...config }, sink.consumers);
  return { p, sink, metrics };
}

async function feed(p: AibomProcessor): Promise<void> {
  for (const batch of reference()) await p.traces.consume(batch);
}

function readSection(raw: unknown): string[] {
  const errors = new ConfigErrors();
  const s = new Section(raw, 'processors.aibom', errors);
  aibomProcessorFactory.readConfig(s);
  s.done();
  return errors.list;
}

describe('entity ids', () => {
  it('are a hash of kind and key, whatever the key order', () => {
    const a = entityId('tool', { 'gen_ai.tool.name': 'search_kb', x: 1 });
    expect(a).toMatch(/^tool:[0-9a-f]{16}$/);
    expect(entityId('tool', { x: 1, 'gen_ai.tool.name': 'search_kb' })).toBe(a);
    expect(entityId('model', { 'gen_ai.tool.name': 'search_kb', x: 1 })).not.toBe(a.replace('tool:', 'model:'));
    expect(entityId('tool', { 'gen_ai.tool.name': 'search_kb', x: '1' })).not.toBe(a);
  });
});

describe('patterns', () => {
  it('folds files into directory + extension, URL ids into {id}, and names MCP packages', () => {
    expect(filePattern('/srv/data/customers.csv')).toBe('/srv/data/*.csv');
    expect(filePattern('/srv/data/README')).toBe('/srv/data/*');
    expect(filePattern('/srv/data/*')).toBe('/srv/data/*');
    expect(pathPattern('/tickets/12345/notes?token=x')).toBe('/tickets/{id}/notes');
    expect(pathPattern('/v1/chat/completions')).toBe('/v1/chat/completions');
    expect(mcpPackage(['/usr/bin/node', '/a/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js', '/data'])).toBe('@modelcontextprotocol/server-filesystem');
    expect(mcpPackage(['npx', '-y', 'mcp-server-fetch'])).toBe('mcp-server-fetch');
    expect(mcpPackage(['/venv/bin/python', '/apps/mcp_server.py'])).toBe('mcp_server.py');
  });
});

describe('inventory', () => {
  const limits = { maxEntities: 2, maxEvidence: 2, maxListValues: 2, maxRelations: 1 };

  it('keeps the last max_evidence distinct trace ids, oldest first, as a list pushed and shifted would (one longer than the bound, as stored with a larger one, keeps its length)', () => {
    for (const [maxEvidence, stored] of [[1, 0], [3, 0], [16, 0], [3, 5]] as const) {
      const inv = new Inventory({ maxEntities: 10, maxEvidence, maxListValues: 2, maxRelations: 1 });
      const e = inv.observe({ kind: 'tool', key: { n: 'x' }, name: 'x', timeMs: 1 })!;
      e.evidence.push(...Array.from({ length: stored }, (_, i) => `s${i}`));
      const model = [...e.evidence];
      let seed = maxEvidence * 31 + stored;
      for (let i = 0; i < 400; i++) {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        const traceId = `t${seed % 7 === 0 ? i : seed % 23}`;
        inv.seen(e, 1, traceId);
        if (model[model.length - 1] !== traceId && !model.includes(traceId)) {
          model.push(traceId);
          if (model.length > maxEvidence) model.shift(); // what Inventory.seen did before
        }
        expect(e.evidence).toEqual(model);
      }
      expect(e.evidence).toHaveLength(Math.max(maxEvidence, stored));
    }
  });
  it('is bounded: entities, evidence, list values and relations past the limits are counted, not stored', () => {
    const inv = new Inventory(limits);
    const t = (name: string, traceId: string, v: string) => inv.observe({ kind: 'tool', key: { n: name }, name, timeMs: 1, traceId, spanId: '1'.repeat(16), attributes: { l: [v] } });
    const a = t('a', 'a1', 'x')!;
    t('a', 'a2', 'y');
    t('a', 'a3', 'z');
    expect(a.evidence).toEqual(['a2', 'a3']);
    expect(a.attributes.l).toEqual(['x', 'y']);
    expect(a.count).toBe(3);
    expect(a.first).toEqual({ traceId: 'a1', spanId: '1'.repeat(16) });
    const b = t('b', 'b1', 'x')!;
    expect(t('c', 'c1', 'x')).toBeUndefined();
    expect(inv.overflow).toBe(1);
    inv.relate(a, 'uses', b);
    inv.relate(a, 'reaches', b);
    expect(a.relations).toHaveLength(1);
    expect(inv.overflow).toBe(2);
  });

  it('reports new and changed entities once, and expiry removes relations to what expired', () => {
    const inv = new Inventory({ ...limits, maxEntities: 10 });
    const a = inv.observe({ kind: 'agent', key: { s: 'a' }, name: 'a', timeMs: 100 })!;
    const m = inv.observe({ kind: 'model', key: { m: 'm' }, name: 'm', timeMs: 10 })!;
    expect([...inv.takeDirty()]).toEqual([[a.id, 'new'], [m.id, 'new']]);
    inv.observe({ kind: 'agent', key: { s: 'a' }, name: 'a', timeMs: 200 });
    expect(inv.takeDirty().size).toBe(0);
    inv.relate(a, 'uses', m);
    expect([...inv.takeDirty()]).toEqual([[a.id, 'changed']]);
    expect(inv.expire(50).map((e) => e.id)).toEqual([m.id]);
    expect(a.relations).toEqual([]);
  });
});

describe('store', () => {
  it('round-trips, writes atomically, and names the file when it is corrupt, never resetting it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aibom-store-'));
    const file = join(dir, 'inventory.json');
    expect(loadInventory(file)).toBeUndefined();
    const inv = new Inventory({ maxEntities: 10, maxEvidence: 4, maxListValues: 4, maxRelations: 4 });
    inv.observe({ kind: 'tool', key: { n: 'x' }, name: 'x', timeMs: 5, traceId: 't' });
    saveInventory(file, { entities: [...inv.all()], overflow: 3, reported: ['undeclared|tool|x'] });
    expect(readdirSync(dir)).toEqual(['inventory.json']);
    const back = loadInventory(file)!;
    expect(back.entities).toEqual([...inv.all()]);
    expect(back.overflow).toBe(3);
    expect(back.reported).toEqual(['undeclared|tool|x']);
    for (const [text, reason] of [
      ['{"entities": [', 'not JSON'],
      ['{"format":"something-else","version":1,"entities":[]}', 'not an aibom-collector inventory'],
      ['{"format":"aibom-collector/inventory","version":9,"entities":[]}', 'unsupported version 9'],
      ['{"format":"aibom-collector/inventory","version":1,"entities":[{"id":"x","name":"x","kind":"planet"}]}', 'entities[0]: unknown kind "planet"'],
    ]) {
      writeFileSync(file, text!);
      expect(() => loadInventory(file)).toThrow(StoreError);
      expect(() => loadInventory(file)).toThrow(file);
      expect(() => loadInventory(file)).toThrow(reason!);
      expect(readFileSync(file, 'utf8')).toBe(text);
    }
  });
});

describe('config', () => {
  it('has complete defaults and refuses bad values and unknown keys by path', () => {
    expect(readSection(undefined)).toEqual([]);
    expect(readSection({ directory: '/x', max_entities: 5, report_interval: '30s', expire_after: '1h', declared: 'd.yaml', cyclonedx: { path: '/x/b.json', spec_version: '1.7' } })).toEqual([]);
    expect(readSection({ max_entities: 0, report_interval: '10ms', cyclonedx: { spec_version: '1.5', pth: 'x' }, bogus: 1 })).toEqual([
      'processors.aibom.max_entities: must be between 1 and 9007199254740991, got 0',
      'processors.aibom.cyclonedx.spec_version: must be one of 1.6, 1.7, got string "1.5"',
      'processors.aibom.cyclonedx: has invalid keys: pth',
      'processors.aibom.report_interval: must be at least 1s',
      'processors.aibom: has invalid keys: bogus',
    ]);
  });
});

describe('aibom processor on the reference run', () => {
  it('derives the agent, model, tools, MCP server, endpoints, data and identity with their relations; spans pass unchanged', async () => {
    const { p, sink } = make();
    const batches = reference();
    for (const b of batches) await p.traces.consume(b);
    expect(sink.traces).toEqual(batches);
    const names = [...p.inventory.all()].map((e) => `${e.kind} ${e.name}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'agent support-agent',
        'model gpt-4o-mini',
        'tool search_kb',
        'tool http_post',
        'tool read_text_file',
        'mcp_server @modelcontextprotocol/server-filesystem',
        'data_source /srv/apps/data/*.csv',
        'identity /var/run/secrets/support/support-agent.token',
      ]),
    );
    const get = (kind: string, name: string) => [...p.inventory.all()].find((e) => e.kind === kind && e.name === name)!;
    const read = get('tool', 'read_text_file');
    const server = get('mcp_server', '@modelcontextprotocol/server-filesystem');
    expect(read.relations).toEqual(expect.arrayContaining([{ type: 'implemented_by', to: server.id }, { type: 'reads', to: get('data_source', '/srv/apps/data/*.csv').id }]));
    expect(server.relations).toContainEqual({ type: 'exposes', to: read.id });
    expect(server.attributes['network.transport']).toBe('pipe');
    const agent = get('agent', 'support-agent');
    for (const [type, to] of [['uses', get('model', 'gpt-4o-mini')], ['uses', read], ['runs_as', get('identity', '/var/run/secrets/support/support-agent.token')]] as const) {
      expect(agent.relations).toContainEqual({ type, to: to.id });
    }
    // Every endpoint a tool reaches carries the path pattern the kernel saw.
    const kb = get('tool', 'search_kb').relations.filter((r) => r.type === 'reaches').map((r) => p.inventory.get(r.to)!);
    expect(kb.some((e) => (e.attributes['url.path'] as string[]).includes('/search'))).toBe(true);
    // No library or runtime file is a data source.
    expect([...p.inventory.all()].filter((e) => e.kind === 'data_source').map((e) => e.name)).toEqual(['/srv/apps/data/*.csv']);
  });

  it('received as bytes (pipeline/otlp/wire-span.ts): the same inventory, and no span decoded to read it (agent or kernel spans)', async () => {
    const eager = make();
    const lazy = make();
    const received = reference().map(asReceived);
    await feed(eager.p);
    for (const b of received) await lazy.p.traces.consume(b);
    const all = (p: AibomProcessor) => [...p.inventory.all()];
    expect(all(eager.p).length).toBeGreaterThan(8);
    expect(all(lazy.p)).toEqual(all(eager.p));
    const spans = received.reduce((n, b) => n + tracesCodec.count(b), 0);
    expect(decodedSpans(received)).toEqual({ received: spans, decoded: 0 });
  });

  it('leaves out what is no data (directory listings, the script a server runs) and folds ::ffff: peers into IPv4', async () => {
    const { p } = make();
    const batches = reference();
    await feed(p);
    // A copy of the MCP server's kernel spans, as if it also opened its script, listed a directory and
    // reached a dual-stack peer.
    const kernel = batches.flatMap((b) => b.resourceSpans).find((rs) => rs.scopeSpans.some((ss) => ss.scope?.name === 'aibom.correlate' && ss.spans.some((s) => s.attributes?.some((a) => a.key === 'file.path' && String(a.value?.stringValue).endsWith('.csv')))))!;
    const ss = kernel.scopeSpans.find((x) => x.scope?.name === 'aibom.correlate')!;
    const open = ss.spans.find((s) => s.attributes?.some((a) => a.key === 'file.path' && String(a.value?.stringValue).endsWith('.csv')))!;
    const recorded = ss.spans.find((s) => s.attributes?.some((a) => a.key === 'aibom.kernel.kind' && a.value?.stringValue === 'process'))!;
    // The same tool, served this time by a Python MCP server started per call.
    const script = '/srv/apps/agent-py/mcp_server.py';
    const proc = { ...recorded, spanId: Buffer.from(randomBytes(8)), attributes: [...recorded.attributes!.filter((a) => a.key !== 'process.command_args'), { key: 'process.command_args', value: { arrayValue: { values: [{ stringValue: '/usr/bin/python3' }, { stringValue: script }] } } }] };
    const withAttrs = (extra: Record<string, string | number>) => ({ ...open, spanId: Buffer.from(randomBytes(8)), parentSpanId: proc.spanId, attributes: [...open.attributes!.filter((a) => !(a.key in extra)), ...Object.entries(extra).map(([key, v]) => ({ key, value: typeof v === 'number' ? { intValue: v } : { stringValue: v } }))] });
    const extra = [
      withAttrs({ 'file.path': script }),
      withAttrs({ 'file.path': '/srv/apps/data/archive', 'aibom.file.open_flags': 0o200000 | 0o2000000 }),
      withAttrs({ 'aibom.kernel.kind': 'connect', 'network.peer.address': '::ffff:127.0.0.1', 'network.peer.port': 4318 }),
    ];
    await p.traces.consume({ resourceSpans: [{ ...kernel, scopeSpans: [{ ...ss, spans: [proc, ...extra] }] }] });
    const names = [...p.inventory.all()].map((e) => `${e.kind} ${e.name}`);
    expect(names).toContain('mcp_server mcp_server.py');
    expect(names.filter((n) => n.startsWith('data_source'))).toEqual(['data_source /srv/apps/data/*.csv']);
    expect(names).toContain('endpoint 127.0.0.1:4318');
    expect(names.some((n) => n.includes('::ffff:'))).toBe(false);
  });

  it('hashes the executable an agent runs (through /proc/<pid>/exe) and puts the sha256 in the BOM', async () => {
    const { p } = make();
    const batches = reference();
    // The recorded agent is gone; this test process stands in for it.
    for (const b of batches) for (const rs of b.resourceSpans) for (const kv of rs.resource?.attributes ?? []) if (kv.key === 'process.pid') kv.value = { intValue: process.pid };
    for (const b of batches) await p.traces.consume(b);
    const want = createHash('sha256').update(readFileSync(realpathSync('/proc/self/exe'))).digest('hex');
    const exe = await waitFor(() => [...p.inventory.all()].find((e) => e.kind === 'infrastructure' && e.attributes['aibom-collector:sha256']));
    expect(exe.attributes['aibom-collector:sha256']).toBe(want);
    const file = (p.bom() as any).components.find((c: any) => c['bom-ref'] === exe.id);
    expect(file).toMatchObject({ type: 'file', hashes: [{ alg: 'SHA-256', content: want }] });
  });

  it('writes CycloneDX that the strict validator accepts, 1.6 and 1.7, with cdxgen-style MCP links', async () => {
    const { p } = make();
    await feed(p);
    for (const [spec, version] of [['1.6', Spec.Version.v1dot6], ['1.7', Spec.Version.v1dot7]] as const) {
      const bom = p.bom(spec) as any;
      expect(await new Validation.JsonStrictValidator(version).validate(JSON.stringify(bom))).toBeNull();
      const server = bom.services.find((s: any) => s.group === 'mcp');
      const tool = bom.components.find((c: any) => c.name === 'read_text_file');
      expect(tool.properties).toEqual(expect.arrayContaining([{ name: 'cdx:mcp:role', value: 'tool' }, { name: 'cdx:mcp:serviceRef', value: server['bom-ref'] }]));
      expect(bom.dependencies.find((d: any) => d.ref === server['bom-ref']).provides).toContain(tool['bom-ref']);
      const impl = (name: string) => bom.components.find((c: any) => c.name === name).properties.find((q: any) => q.name === 'aibom-collector:implementation').value;
      expect([impl('read_text_file'), impl('search_kb')]).toEqual(['mcp_server', 'http_api']);
      // Our properties live in our namespace only.
      const names = [...bom.components, ...bom.services].flatMap((x: any) => x.properties.map((q: any) => q.name as string));
      expect(names.filter((n: string) => !n.startsWith('aibom-collector:') && !n.startsWith('cdx:mcp:'))).toEqual([]);
    }
    // Reading our own BOM back gives the same items (show and diff read it).
    const back = readBom(JSON.stringify(p.bom()), 'ours');
    expect(back.items.find((i) => i.kind === 'mcp_server')!.tools).toEqual(['read_text_file']);
    expect(back.items.find((i) => i.name === 'read_text_file')!.servers).toEqual(['@modelcontextprotocol/server-filesystem']);
  });

  it('emits entity.state when entities appear or change and at the report interval, entity.delete when they expire', async () => {
    let now = Date.parse('2026-11-29T12:00:00Z');
    const sink = new PipelineSink();
    const p = new AibomProcessor({ id: 'aibom', name: '', logger: silentLogger(), metrics: new Metrics() }, { ...createDefaultConfig(), reportIntervalMs: 60_000, expireAfterMs: 600_000, flushIntervalMs: 3_600_000 }, sink.consumers, () => now);
    await p.start(createHost());
    await feed(p);
    await p.flush();
    const first = sink.records();
    expect(first.length).toBe(p.inventory.size);
    expect(first.every((r) => r.eventName === 'entity.state')).toBe(true);
    const a = attrsOf(first.find((r) => attrsOf(r)['entity.type'] === 'aibom.mcp_server')!);
    expect(Object.keys(a).sort()).toEqual(['aibom.entity.id', 'entity.description', 'entity.id', 'entity.relationships', 'entity.report.interval', 'entity.type']);
    expect(a['entity.report.interval']).toBe(60);
    expect(Object.values(a['entity.id']).every((v) => typeof v === 'string')).toBe(true);
    expect(a['entity.relationships'][0]).toMatchObject({ 'relationship.type': 'exposes', 'entity.type': 'aibom.tool', 'entity.id': { 'gen_ai.tool.name': 'read_text_file' } });
    // Nothing changed: nothing sent. Same spans again: still nothing (counts change, state does not).
    sink.logs = [];
    await feed(p);
    await p.flush();
    expect(sink.records()).toEqual([]);
    now += 61_000;
    await p.flush();
    expect(sink.records().length).toBe(p.inventory.size);
    sink.logs = [];
    now += 24 * 3_600_000;
    await p.flush();
    const deletes = sink.records().filter((r) => r.eventName === 'entity.delete');
    expect(deletes.length).toBeGreaterThan(0);
    expect(attrsOf(deletes[0]!)['entity.delete.reason']).toBe('expired');
    expect(p.inventory.size).toBe(0);
    await p.shutdown();
  });

  it('persists across restarts and serves GET /v1/aibom through the host; a corrupt store fails start naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aibom-proc-'));
    const routes = new AdminRoutes();
    const { p } = make({ directory: dir, cyclonedx: { path: join(dir, 'bom.json'), specVersion: '1.7' } });
    await p.start(createHost(undefined, routes));
    await feed(p);
    await p.shutdown();
    expect(routes.get('/v1/aibom')).toBeUndefined();
    expect(JSON.parse(readFileSync(join(dir, 'bom.json'), 'utf8')).specVersion).toBe('1.7');
    const { p: again } = make({ directory: dir });
    await again.start(createHost(undefined, routes));
    expect(again.inventory.size).toBe(p.inventory.size);
    const res = await routes.get('/v1/aibom')!(new URLSearchParams('spec=1.6'), { method: 'GET', params: {} });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).components.length).toBeGreaterThan(5);
    expect((await routes.get('/v1/aibom')!(new URLSearchParams('spec=2.0'), { method: 'GET', params: {} })).status).toBe(400);
    await again.shutdown();

    writeFileSync(join(dir, 'inventory.json'), 'garbage');
    const { p: broken } = make({ directory: dir });
    await expect(broken.start(createHost())).rejects.toThrow(join(dir, 'inventory.json'));
    expect(readFileSync(join(dir, 'inventory.json'), 'utf8')).toBe('garbage');
  });

  it('continuous mode: each new finding against the declared BOM is one aibom.finding record, linked to the first span that showed it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aibom-cont-'));
    const { p, sink, metrics } = make({ declared: testdata('declared.yaml').pathname, directory: dir });
    await p.start(createHost());
    await feed(p);
    await p.flush();
    const findings = sink.records().filter((r) => r.eventName === 'aibom.finding');
    const byName = Object.fromEntries(findings.map((r) => [`${attrsOf(r)['aibom.finding.type']} ${attrsOf(r)['aibom.finding.kind']} ${attrsOf(r)['aibom.finding.name']}`, r]));
    const server = byName['undeclared mcp_server @modelcontextprotocol/server-filesystem']!;
    expect(server, Object.keys(byName).join('\n')).toBeDefined();
    const entity = [...p.inventory.all()].find((e) => e.kind === 'mcp_server')!;
    expect(Buffer.from(server.traceId!).toString('hex')).toBe(entity.first!.traceId);
    expect(Buffer.from(server.spanId!).toString('hex')).toBe(entity.first!.spanId);
    expect(attrsOf(byName['changed model gpt-4o-mini']!)['aibom.finding.detail']).toBe('declared gpt-4o, ran gpt-4o-mini');
    expect(attrsOf(server)['security_rule.name']).toBe('aibom.undeclared');
    // Declared and seen: source both. Declared, never seen: in the BOM as source declared, but never
    // read back as an observation.
    expect([...p.inventory.all()].find((e) => e.name === 'search_kb')!.source).toBe('both');
    expect(entity.source).toBe('observed');
    const bom = p.bom() as any;
    const declaredTool = bom.components.find((c: any) => c.name === 'lookup_order');
    expect(declaredTool?.properties).toContainEqual({ name: 'aibom-collector:source', value: 'declared' });
    expect(await new Validation.JsonStrictValidator(Spec.Version.v1dot6).validate(JSON.stringify(bom))).toBeNull();
    expect(readBom(JSON.stringify(bom), 'ours').items.some((i) => i.name === 'lookup_order')).toBe(false);
    expect(byName['unobserved tool lookup_order']).toBeDefined();
    // Reported once, also after a restart.
    sink.logs = [];
    await feed(p);
    await p.flush();
    await p.shutdown();
    const { p: again, sink: sink2 } = make({ declared: testdata('declared.yaml').pathname, directory: dir });
    await again.start(createHost());
    await feed(again);
    await again.flush();
    expect([...sink.records(), ...sink2.records()].filter((r) => r.eventName === 'aibom.finding')).toEqual([]);
    await again.shutdown();
    expect(await metrics.value(metrics.counter('aibom_inventory_findings_total', '', ['component', 'type']), { type: 'undeclared' })).toBeGreaterThan(0);
  });
});

describe('declared BOM readers and diff', () => {
  it('reads real cdxgen output (CycloneDX 1.7, cdx:mcp:* / cdx:ai:*): servers with the tools they provide, the model', () => {
    const bom = readBom(readFileSync(testdata('cdxgen-agent-js.cdx.json'), 'utf8'), 'cdxgen');
    expect(bom.specVersion).toBe('1.7');
    expect(bom.producer).toBe('cdxgen');
    const server = bom.items.find((i) => i.kind === 'mcp_server' && i.name === 'aibom-test-mcp')!;
    expect(server.tools.sort()).toEqual(['lookup_order', 'system_info']);
    expect(bom.items.find((i) => i.name === 'lookup_order')!.servers).toEqual(['aibom-test-mcp']);
    expect(bom.items.find((i) => i.kind === 'model')).toMatchObject({ name: 'gpt-4o-mini', provider: 'openai' });
  });

  it('reads the Snyk and k8s-aibom shapes (documented, hand-written fixtures)', () => {
    const snyk = readBom(readFileSync(testdata('snyk-shape.cdx.json'), 'utf8'), 'snyk');
    expect(snyk.items.map((i) => `${i.kind} ${i.name}`).sort()).toEqual(['agent langchain', 'endpoint api.openai.com', 'mcp_server filesystem', 'model openai/gpt-4o-mini', 'tool read_text_file']);
    expect(snyk.items.find((i) => i.kind === 'mcp_server')!.tools).toEqual(['read_text_file']);
    const k8s = readBom(readFileSync(testdata('k8s-aibom-shape.cdx.json'), 'utf8'), 'k8s-aibom');
    expect(k8s.items.map((i) => `${i.kind} ${i.name}`).sort()).toEqual(['agent support-agent', 'model gpt-4o-mini']);
  });

  it('reads our YAML and refuses what is neither format, with the reason', () => {
    const bom = readBom(readFileSync(testdata('declared.yaml'), 'utf8'), 'declared.yaml');
    expect(bom.items.map((i) => `${i.kind} ${i.name}`)).toContain('tool http_post');
    expect(bom.items.find((i) => i.name === 'http_post')!.endpoints).toEqual(['https://tickets.example.com/tickets']);
    expect(() => readBom('aibom: 1\nplanets: [x]\n', 'x.yaml')).toThrow('x.yaml: unknown key "planets"');
    expect(() => readBom('tools: [x]\n', 'y.yaml')).toThrow('"aibom: 1"');
    expect(() => readBom('{"bomFormat":"CycloneDX","specVersion":"1.3"}', 'old.json')).toThrow('specVersion "1.3" is not supported');
    expect(() => readBom('{"bomFormat":', 'bad.json')).toThrow('bad.json: not valid JSON');
  });

  it('finds undeclared, unobserved and changed items (model version, new tool on a declared server, new endpoint of a declared tool)', async () => {
    const { p } = make();
    await feed(p);
    const observed = readBom(JSON.stringify(p.bom()), 'observed');
    const declared = readBom(
      [
        'aibom: 1',
        'agents: [support-agent]',
        'models: [{ name: gpt-4o, provider: openai }]',
        'tools: [search_kb, { name: http_post, endpoints: [https://tickets.example.com] }, lookup_order]',
        'mcp_servers: [{ name: "@modelcontextprotocol/server-filesystem", tools: [list_directory] }]',
      ].join('\n'),
      'd.yaml',
    );
    const f = diffBoms(declared, observed);
    const line = (x: (typeof f)[number]) => `${x.type} ${x.kind} ${x.name}${x.detail ? ` (${x.detail})` : ''}`;
    const lines = f.map(line);
    expect(lines).toContain('changed model gpt-4o-mini (declared gpt-4o, ran gpt-4o-mini)');
    expect(lines).toContain('changed tool read_text_file (new tool on declared MCP server @modelcontextprotocol/server-filesystem)');
    expect(lines.some((l) => /^changed endpoint 127\.0\.0\.1:\d+ \(new endpoint of declared tool http_post/.test(l))).toBe(true);
    expect(lines).toContain('unobserved tool lookup_order');
    expect(lines).toContain('unobserved tool list_directory');
    expect(lines).not.toContain('unobserved model gpt-4o');
    expect(lines.some((l) => l.startsWith('undeclared data_source'))).toBe(true);
    expect(f.find((x) => x.kind === 'model')!.evidence.length).toBeGreaterThan(0);
    // Declared = observed: nothing to say.
    expect(diffBoms(observed, observed)).toEqual([]);
  });

  it('the CycloneDX writer validates for every kind, including identities and infrastructure', async () => {
    const inv = new Inventory({ maxEntities: 100, maxEvidence: 4, maxListValues: 4, maxRelations: 16 });
    const o = (kind: any, key: any, name: string, attributes = {}) => inv.observe({ kind, key, name, attributes, timeMs: 1_700_000_000_000, traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) })!;
    const agent = o('agent', { 'service.name': 'x' }, 'x');
    for (const [kind, what] of <[string, string][]>[['infrastructure', 'host'], ['infrastructure', 'container'], ['infrastructure', 'pod'], ['infrastructure', 'executable'], ['identity', 'api_key_env'], ['identity', 'credential_file']]) {
      inv.relate(agent, 'runs_in', o(kind, { what }, what, { [`aibom-collector:${kind}`]: what }));
    }
    inv.relate(agent, 'reaches', o('endpoint', { 'server.address': 'api.openai.com', 'server.port': 443 }, 'api.openai.com:443', { 'url.path': ['/v1/chat/completions'] }));
    inv.relate(agent, 'reaches', o('endpoint', { 'server.address': 'fe80::1' }, 'fe80::1', { 'aibom-collector:dns': true }));
    inv.relate(agent, 'uses', o('mcp_server', { 'server.address': '10.0.0.5', 'server.port': 8080 }, '10.0.0.5:8080', { 'network.transport': 'tcp' }));
    inv.relate(agent, 'uses', o('model', { 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'text-embedding-3-small' }, 'text-embedding-3-small', { 'gen_ai.operation.name': ['embeddings'] }));
    const bom = toCycloneDx([...inv.all()], { specVersion: '1.6', toolVersion: '0.0.0' }) as any;
    expect(await new Validation.JsonStrictValidator(Spec.Version.v1dot6).validate(JSON.stringify(bom))).toBeNull();
    expect(bom.services.find((s: any) => s.name === 'api.openai.com:443')).toMatchObject({ endpoints: ['https://api.openai.com:443/v1/chat/completions'], trustZone: 'external' });
    expect(bom.services.find((s: any) => s.name === '10.0.0.5:8080').trustZone).toBe('private');
  });
});
