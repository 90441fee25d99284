import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import YAML from 'yaml';
import { DEVIATION_EVENT } from '../../pipeline/deviation/index.js';
import { NS } from '../../processors/aibom/cyclonedx.js';
import { ENTITY_STATE } from '../../processors/aibom/entity-events.js';
import type { HistoryEntry } from '../../processors/history/entry.js';
import { APPS, expectLogsAsSent, runApp, type ReferencePeers, type SentDescription } from '../support/apps.js';
import { Collector } from '../support/collector.js';
import { Jaeger, type JaegerSpan } from '../support/jaeger.js';
import { startListening } from '../support/listening.js';
import { logRecordsOf, plainAttributes, plainValue } from '../support/otlp-json.js';
import { Otelcol, otelcolBin, spansOfJsonLines } from '../support/otelcol.js';
import { freePorts } from '../support/ports.js';
import { Proc, waitFor } from '../support/process.js';
import { attackRun, deviationsKept, learnAndFreeze, provenanceJudged, watchedComm } from '../support/reference-flow.js';
import { jaegerBin, requireTool, ROOT } from '../support/tools.js';
import { TraceTree } from '../support/trace-tree.js';

/**
 * The two README topologies with a real OpenTelemetry Collector (v0.161.0, .ci/otelcol-builder.yaml),
 * the real LangChain.js agent with its MCP servers over stdio, the real eBPF sensor and a real
 * Jaeger v2, each process running the config files of otel-config/ as they are (only their
 * `${env:...}` endpoints and data directory are moved to free ports and a temporary directory):
 *   in front: agent -> aibom-collector (examples/in-front-of-otelcol.yaml) -> otelcol (otelcol/collector.yaml) -> Jaeger
 *   behind:   agent -> otelcol (otelcol/collector.yaml + otelcol-upstream.yaml) -> aibom-collector (examples/behind-otelcol.yaml)
 *             -> otelcol (otelcol/collector.yaml, the backend: Jaeger keeps no logs) -> Jaeger
 * A collector's `file/archive` copy is what it received, byte for byte, to compare Jaeger's view with;
 * the last one's is the far end of the logs. In each topology the reference flow (demo/reference-run.ts)
 * runs through the Collector: normal runs to learn, baselines frozen, then the prompt injection, whose
 * deviations (spans and `aibom.deviation` records) and the AI-BOM's entity events must arrive intact.
 */
const CONFIG = join(ROOT, 'otel-config');
const IN_FRONT = join(CONFIG, 'examples', 'in-front-of-otelcol.yaml');
const BEHIND = join(CONFIG, 'examples', 'behind-otelcol.yaml');
const OTELCOL = join(CONFIG, 'otelcol', 'collector.yaml');
const UPSTREAM = join(CONFIG, 'otelcol-upstream.yaml');
const DEFAULT = join(CONFIG, 'default.yaml');

const jaegerPath = jaegerBin();
const otelcolPath = otelcolBin();
requireTool('AIBOM_SENSOR', 'bpf/.output/aibom-sensor');
if (process.getuid?.() !== 0) throw new Error('the otelcol topology tests need root for the eBPF sensor (CI runs as root)');
if (!existsSync(join(APPS, 'node_modules'))) throw new Error('test/apps is not installed: run test/apps/setup.sh (or .ci/install-tools.sh)');

interface Pipelines {
  service: { pipelines: Record<string, { processors?: string[] }> };
}
/** A component or service of the CycloneDX AI-BOM (GET /v1/aibom). */
interface BomItem {
  'bom-ref': string;
  name: string;
  properties?: { name: string; value: string }[];
}

/** The processors of each pipeline of a config file. */
function processorsOf(configPath: string): Record<string, string[] | undefined> {
  const doc = YAML.parse(readFileSync(configPath, 'utf8')) as Pipelines;
  return Object.fromEntries(Object.entries(doc.service.pipelines).map(([name, p]) => [name, p.processors]));
}

/**
 * What Jaeger v2.13 changes in the spans it returns, which the comparison allows: its sanitizer gives
 * a span whose end is not after its start (a single kernel event) an end 1 ns after the start; its
 * query adjusters write `@jaeger@warnings` into the spans (the in-memory store hands out the stored
 * trace, so a warning from a poll made while a parent was still on its way stays). The warnings are
 * Jaeger's notes, not data that crossed the Collector: they are counted for the log, not compared.
 */
const jaegerEnd = (want: JaegerSpan) =>
  BigInt(want.endTimeUnixNano) > BigInt(want.startTimeUnixNano) ? want.endTimeUnixNano : String(BigInt(want.startTimeUnixNano) + 1n);
const JAEGER_WARNINGS = '@jaeger@warnings';
const jaegerWarnings = new Map<string, number>();

function withoutJaegerWarnings(attrs: Record<string, unknown>): Record<string, unknown> {
  const { [JAEGER_WARNINGS]: warnings, ...rest } = attrs;
  for (const w of new Set((warnings as string[] | undefined) ?? [])) {
    const kind = w.split(/[=:;,.]/)[0]!;
    jaegerWarnings.set(kind, (jaegerWarnings.get(kind) ?? 0) + 1);
  }
  return rest;
}

/** Attributes aibom-collector adds to the spans it forwards (its README: only `aibom.*`). */
const ADDED_BY_AIBOM = (key: string) => key.startsWith('aibom.');
const NOTHING_ADDED = () => false;

/**
 * A span as two hops saw it: equal in everything, except attributes `added` between them and, when
 * `got` is Jaeger's, what Jaeger changes. Jaeger keeps events in its own order: compared by time.
 */
function expectSameSpan(got: JaegerSpan, want: JaegerSpan, added: (key: string) => boolean, fromJaeger = true): void {
  const withoutAdded = (attrs: Record<string, unknown>, keep: Record<string, unknown>) => Object.fromEntries(Object.entries(attrs).filter(([k]) => !added(k) || k in keep));
  const what = `span ${want.name} ${want.spanId}`;
  const sortedEvents = (s: JaegerSpan) => (s.events ?? []).map((e) => ({ ...e, attributes: plainAttributes(e.attributes) })).sort((a, b) => a.timeUnixNano.localeCompare(b.timeUnixNano) || a.name.localeCompare(b.name));
  const links = (s: JaegerSpan) => (s.links ?? []).map((l) => ({ ...l, attributes: plainAttributes(l.attributes) }));
  expect({ name: got.name, traceId: got.traceId, parent: got.parentSpanId ?? '', kind: got.kind, start: got.startTimeUnixNano, end: got.endTimeUnixNano }, what).toEqual({
    name: want.name, traceId: want.traceId, parent: want.parentSpanId ?? '', kind: want.kind, start: want.startTimeUnixNano, end: fromJaeger ? jaegerEnd(want) : want.endTimeUnixNano,
  });
  const attrs = plainAttributes(got.attributes);
  expect(withoutAdded(fromJaeger ? withoutJaegerWarnings(attrs) : attrs, plainAttributes(want.attributes)), what).toEqual(plainAttributes(want.attributes));
  expect(withoutAdded(plainAttributes(got.resource), plainAttributes(want.resource)), what).toEqual(plainAttributes(want.resource));
  expect(sortedEvents(got), what).toEqual(sortedEvents(want));
  expect(links(got), what).toEqual(links(want));
  expect({ code: got.status?.code ?? 0, message: got.status?.message ?? '' }, what).toEqual({ code: want.status?.code ?? 0, message: want.status?.message ?? '' });
  expect({ name: got.scope?.name, version: got.scope?.version ?? '' }, what).toEqual({ name: want.scope?.name, version: want.scope?.version ?? '' });
}

const idsOf = (spans: JaegerSpan[]) => spans.map((s) => s.spanId).sort().join();

/** Every parent is in the trace: the last spans the agent exports (its outer ones) are there too. */
const complete = (spans: JaegerSpan[]) => {
  const ids = new Set(spans.map((s) => s.spanId));
  return spans.length > 0 && spans.every((s) => !s.parentSpanId || ids.has(s.parentSpanId));
};

/** The execution chain the README shows, as Jaeger returns it after the Collector hop. */
function expectKernelChain(tree: TraceTree, ports: { kb: number; ticket: number }): void {
  const outline = `\n${tree.outline()}`;
  const kernel = tree.kernel();
  for (const k of kernel) {
    expect(tree.attr(k, 'aibom.kernel.kind'), `${k.name}${outline}`).toEqual(expect.any(String));
    expect(tree.attr(k, 'aibom.correlation.key'), `${k.name}${outline}`).toEqual(expect.any(String));
    expect(tree.parent(k), `${k.name} has no parent in the trace${outline}`).toBeDefined();
  }
  const tool = (name: string) => tree.where((s, a) => s.name === name && a['aibom.span.kind'] === 'tool');
  const open = kernel.find((s) => String(tree.attr(s, 'file.path')).endsWith('/customers.csv'))!;
  const chain = tree.ancestors(open);
  expect(tree.attr(chain[0]!, 'aibom.kernel.kind'), outline).toBe('process');
  expect(String(tree.attr(chain[0]!, 'process.command_args')), outline).toMatch(/server-filesystem/);
  expect(chain.some((s) => tool('read_text_file').includes(s)), outline).toBe(true);
  for (const [port, name] of [[ports.kb, 'search_kb'], [ports.ticket, 'http_post']] as const) {
    const towards = kernel.filter((s) => tree.attr(s, 'network.peer.port') === port || tree.attr(s, 'server.port') === port);
    expect(towards.length, `no kernel activity towards ${name}'s port ${port}${outline}`).toBeGreaterThan(0);
    for (const k of towards) expect(tree.ancestors(k).some((s) => tool(name).includes(s)), `${k.name} not under ${name}${outline}`).toBe(true);
  }
}

describe('aibom-collector with a real OpenTelemetry Collector, configs from otel-config/ as they are', () => {
  let jaeger: Jaeger;
  let llm: { proc: Proc; ports: number[] };
  let services: { proc: Proc; ports: number[] };
  const comm = watchedComm(BEHIND);

  beforeAll(async () => {
    jaeger = await Jaeger.start(jaegerPath);
    llm = await startListening(process.execPath, [join(APPS, 'fake-llm', 'server.mjs'), '--port', '0']);
    services = await startListening(process.execPath, [join(APPS, 'services.mjs')]);
  }, 120_000);

  afterAll(async () => {
    if (jaegerWarnings.size > 0) console.log(`Jaeger's notes on the spans compared (spans per kind): ${JSON.stringify(Object.fromEntries(jaegerWarnings))}`);
    await llm?.proc.stop();
    await services?.proc.stop();
    await jaeger?.stop();
  });

  test('the README shows otelcol-upstream.yaml byte for byte; both examples watch the same agent and run the embedded default\'s processors', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## With an existing OpenTelemetry Collector'), readme.indexOf('## Components'));
    const blocks = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(blocks).toContain(readFileSync(UPSTREAM, 'utf8'));
    expect(watchedComm(IN_FRONT)).toBe(comm);
    for (const example of [IN_FRONT, BEHIND]) expect(processorsOf(example), example).toEqual(processorsOf(DEFAULT));
  });

  const peers = (otlpPort: number): ReferencePeers => ({ llm, services, otlpPort });

  /**
   * Waits until Jaeger's trace holds every kernel span expectKernelChain looks for: the MCP server's
   * open of customers.csv and activity towards both services' ports (the http_post tool runs last, so
   * its kernel spans can arrive after the open's).
   */
  async function chainOf(traceId: string, logs: () => string): Promise<TraceTree> {
    let last: TraceTree | undefined;
    const ports = [services.ports[0]!, services.ports[1]!];
    const complete = (tree: TraceTree) => {
      const kernel = tree.kernel();
      return kernel.some((s) => String(tree.attr(s, 'file.path')).endsWith('/customers.csv'))
        && ports.every((port) => kernel.some((s) => tree.attr(s, 'network.peer.port') === port || tree.attr(s, 'server.port') === port));
    };
    try {
      return await waitFor(`the open of customers.csv and kernel activity towards ports ${ports.join(', ')} in trace ${traceId}`, async () => {
        const spans = await jaeger.spans(traceId);
        last = spans && new TraceTree(spans);
        return last && complete(last) ? last : undefined;
      }, 60_000, 500);
    } catch (err) {
      throw new Error(`${(err as Error).message}\ntrace so far:\n${last?.outline() ?? '(none)'}\n${logs()}`);
    }
  }

  /** otelcol/collector.yaml (then the `more` files) on free ports, its file copy in a new directory. */
  async function startOtelcol(more: string[], env: NodeJS.ProcessEnv): Promise<{ otelcol: Otelcol; archive: string; grpc: number }> {
    const [grpc, http, metrics] = (await freePorts(3)) as [number, number, number];
    const archive = join(mkdtempSync(join(tmpdir(), 'aibom-otelcol-')), 'archive.jsonl');
    const otelcol = await Otelcol.start(otelcolPath, [OTELCOL, ...more], {
      OTELCOL_OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpc}`,
      OTELCOL_OTLP_HTTP_ENDPOINT: `127.0.0.1:${http}`,
      OTELCOL_METRICS_PORT: String(metrics),
      OTELCOL_ARCHIVE_PATH: archive,
      ...env,
    }, metrics);
    return { otelcol, archive, grpc };
  }

  /** The agent's attack run sent to `otlpPort`, once Jaeger holds its execution chain (checked). */
  async function attackTrace(otlpPort: number, stages: Record<string, Proc>): Promise<{ traceId: string; tree: TraceTree }> {
    const traceId = await attackRun(comm, peers(otlpPort));
    const tree = await chainOf(traceId, () => Object.entries(stages).map(([name, p]) => `${name}:\n${p.tail(20)}`).join('\n'));
    expectKernelChain(tree, { kb: services.ports[0]!, ticket: services.ports[1]! });
    return { traceId, tree };
  }

  /**
   * The prompt injection's deviations reached the far end intact: the `aibom.deviation` records in
   * `farArchive` (what the last Collector received) are, record for record and attribute for attribute,
   * the ones aibom-collector's history kept as they left its detectors (GET /v1/history), and each one's
   * `deviation <rule>` span is in Jaeger under the span that caused it, with the same attributes.
   */
  async function expectDeviationsIntact(aibom: Collector, traceId: string, farArchive: string): Promise<string[]> {
    const view = (x: Omit<HistoryEntry, 'kind'>) => ({ timeMs: x.timeMs, traceId: x.traceId, spanId: x.spanId, service: x.service, severity: x.severity, body: x.body, attributes: x.attributes });
    const sorted = <T>(xs: T[]) => xs.map((x) => JSON.stringify(x)).sort();
    const kept = async () => (await deviationsKept(aibom)).filter((e) => e.traceId === traceId);
    const arrived = () => logRecordsOf(existsSync(farArchive) ? readFileSync(farArchive, 'utf8') : '').filter((r) => r.record.eventName === DEVIATION_EVENT && r.record.traceId === traceId);
    const arrivedView = (r: ReturnType<typeof arrived>[number]) => view({
      timeMs: Number(BigInt(r.record.timeUnixNano as string) / 1_000_000n),
      traceId: r.record.traceId as string,
      spanId: r.record.spanId as string,
      service: r.resource['service.name'] as string,
      severity: r.record.severityText as string,
      body: plainValue(r.record.body as Record<string, unknown>) as string,
      attributes: plainAttributes(r.record.attributes as never),
    });
    await provenanceJudged(aibom);
    let previous = '';
    await waitFor(`the attack's deviations in the history and at the far end, the same for a second`, async () => {
      const [history, far] = [sorted((await kept()).map(view)), sorted(arrived().map(arrivedView))];
      const now = history.join('\n');
      const settled = history.length > 0 && now === far.join('\n') && now === previous;
      previous = now;
      return settled ? true : undefined;
    }, 60_000, 1_000).catch(() => undefined); // the comparison below says what differs
    const history = await kept();
    expect(history.length, 'deviations aibom-collector concluded for the attack trace').toBeGreaterThan(0);
    expect(history.filter((e) => e.attributes['aibom.history.truncated']), 'deviations kept whole (under max_entry_bytes)').toEqual([]);
    const records = arrived();
    expect(sorted(records.map(arrivedView))).toEqual(sorted(history.map(view)));

    const isDeviation = (s: JaegerSpan) => s.traceId === traceId && s.name.startsWith('deviation ');
    const { spans, archived } = await waitFor('every deviation span in Jaeger and in the far end\'s archive', async () => {
      const got = ((await jaeger.spans(traceId)) ?? []).filter(isDeviation);
      const far = spansOfJsonLines(farArchive).filter(isDeviation);
      return got.length >= records.length && far.length >= records.length ? { spans: got, archived: far } : undefined;
    }, 30_000, 500);
    expect(spans).toHaveLength(records.length);
    expect(idsOf(spans)).toBe(idsOf(archived));
    for (const want of archived) expectSameSpan(spans.find((s) => s.spanId === want.spanId)!, want, NOTHING_ADDED);
    for (const r of records) {
      const attributes = plainAttributes(r.record.attributes as never);
      const twins = spans.filter((s) => s.name === `deviation ${String(attributes['aibom.deviation.rule'])}` && s.parentSpanId === r.record.spanId && s.startTimeUnixNano === r.record.timeUnixNano);
      expect(twins.map((s) => withoutJaegerWarnings(plainAttributes(s.attributes))), `the span of ${JSON.stringify(r.record.body)}`).toContainEqual(attributes);
    }
    return history.map((e) => `${String(e.attributes['aibom.deviation.rule'])} on ${String(e.attributes['aibom.deviation.component.kind'])}/${String(e.attributes['aibom.deviation.component.name'])}`);
  }

  /**
   * The AI-BOM's entity events reached the far end intact: as many `entity.state` records as
   * aibom-collector says it sent, one at least for every entity of its AI-BOM (GET /v1/aibom), each
   * carrying the entity's identity, type, name, source and first sighting as the AI-BOM has them, and
   * relationships to entities of the AI-BOM (maps inside arrays inside maps: what a hop could flatten).
   */
  async function expectEntityEventsIntact(aibom: Collector, farArchive: string): Promise<number> {
    const states = () => logRecordsOf(existsSync(farArchive) ? readFileSync(farArchive, 'utf8') : '').filter((r) => r.record.eventName === ENTITY_STATE).map((r) => plainAttributes(r.record.attributes as never));
    const sent = () => aibom.metric('aibom_inventory_entity_events_total', { event: ENTITY_STATE });
    const inventory = async () => {
      const bom = (await (await fetch(`${aibom.adminUrl}/v1/aibom`)).json()) as { components?: BomItem[]; services?: BomItem[] };
      const props = (c: BomItem) => Object.fromEntries((c.properties ?? []).filter((p) => p.name.startsWith(`${NS}:`)).map((p) => [p.name.slice(NS.length + 1), p.value]));
      return new Map([...(bom.components ?? []), ...(bom.services ?? [])].map((c) => [c['bom-ref'], { name: c.name, props: props(c) }]));
    };
    const missing = (ids: Iterable<string>, got: Record<string, unknown>[]) => [...ids].filter((id) => !got.some((a) => a['aibom.entity.id'] === id));
    // Entities only grow here (nothing expires within the test): an AI-BOM read first is covered by
    // the events once they are all in, and one read after holds every entity they name.
    const before = await inventory();
    expect(before.size).toBeGreaterThan(0);
    await waitFor('every entity event aibom-collector sent at the far end', async () => {
      const got = states();
      return got.length === (await sent()) && missing(before.keys(), got).length === 0 ? true : undefined;
    }, 60_000, 500).catch(() => undefined); // the comparisons below say what differs
    const got = states();
    expect(got.length).toBe(await sent());
    expect(missing(before.keys(), got), 'AI-BOM entities with no entity.state at the far end').toEqual([]);
    const entities = await inventory();
    const identity = (props: Record<string, string>) => Object.fromEntries(Object.entries(props).filter(([k]) => k.startsWith('key:')).map(([k, v]) => [k.slice(4), v]));
    for (const a of got) {
      const e = entities.get(a['aibom.entity.id'] as string);
      expect(e, `entity ${String(a['aibom.entity.id'])} in the AI-BOM`).toBeDefined();
      const description = a['entity.description'] as Record<string, unknown>;
      expect({ type: a['entity.type'], id: a['entity.id'], name: description['aibom.entity.name'], source: description['aibom.entity.source'], firstSeen: description['aibom.entity.first_seen'] }).toEqual({
        type: `aibom.${e!.props.kind}`, id: identity(e!.props), name: e!.name, source: e!.props.source, firstSeen: e!.props.first_seen,
      });
      for (const rel of (a['entity.relationships'] ?? []) as Record<string, unknown>[]) {
        const to = entities.get(rel['aibom.entity.id'] as string);
        expect(to, `relationship ${JSON.stringify(rel)} to an entity of the AI-BOM`).toBeDefined();
        expect({ type: rel['entity.type'], id: rel['entity.id'] }).toEqual({ type: `aibom.${to!.props.kind}`, id: identity(to!.props) });
        expect(rel['relationship.type']).toEqual(expect.any(String));
      }
    }
    return got.length;
  }

  describe('in front of it: agent -> aibom-collector -> otelcol -> Jaeger', () => {
    let aibom: Collector;
    let otelcol: Otelcol;
    let archive: string;
    let aibomGrpc: number;
    let attack = '';

    beforeAll(async () => {
      let otelGrpc: number;
      ({ otelcol, archive, grpc: otelGrpc } = await startOtelcol([], { BACKEND_OTLP_ENDPOINT: jaeger.otlpGrpcEndpoint }));
      const [grpc, http, admin] = (await freePorts(3)) as [number, number, number];
      aibomGrpc = grpc;
      aibom = await Collector.startWith(IN_FRONT, `http://127.0.0.1:${admin}`, {
        AIBOM_OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpc}`,
        AIBOM_OTLP_HTTP_ENDPOINT: `127.0.0.1:${http}`,
        AIBOM_ADMIN_ENDPOINT: `127.0.0.1:${admin}`,
        AIBOM_DATA_DIR: mkdtempSync(join(tmpdir(), 'aibom-in-front-')),
        OTELCOL_OTLP_ENDPOINT: `127.0.0.1:${otelGrpc}`,
      });
      await learnAndFreeze(comm, peers(aibomGrpc), aibom);
    }, 420_000);

    afterAll(async () => {
      await aibom?.stop();
      await otelcol?.stop();
    });

    test('kernel spans reach Jaeger through the Collector under the tool spans, every span as the Collector received it', async () => {
      const { traceId, tree } = await attackTrace(aibomGrpc, { 'aibom-collector': aibom.proc, otelcol: otelcol.proc });
      attack = traceId;

      // Everything aibom-collector sent (agent spans with aibom.* added, kernel spans) went through
      // the Collector: Jaeger holds exactly the spans of its archive, each one identical.
      let previous = '';
      const { archived, stored } = await waitFor('the same complete trace in the archive and in Jaeger, unchanged for a second', async () => {
        const a = spansOfJsonLines(archive).filter((s) => s.traceId === traceId);
        const j = (await jaeger.spans(traceId)) ?? [];
        const ids = idsOf(a);
        const settled = complete(a) && ids === idsOf(j) && ids === previous;
        previous = ids;
        return settled ? { archived: a, stored: j } : undefined;
      }, 60_000, 1_000);
      for (const want of archived) expectSameSpan(stored.find((s) => s.spanId === want.spanId)!, want, NOTHING_ADDED);
      const kernelSpans = archived.filter((s) => s.scope?.name === 'aibom.correlate').length;
      expect(kernelSpans).toBeGreaterThanOrEqual(tree.kernel().length);
      expect(await aibom.metric('aibom_exporter_dropped_items_total')).toBe(0);
      console.log(`in front of otelcol, trace ${traceId}: ${stored.length} spans, ${kernelSpans} kernel spans\n${tree.outline()}`);
    }, 150_000);

    test('the attack\'s deviations reach Jaeger (spans) and the Collector\'s far end (aibom.deviation records) intact, and so do the entity events', async () => {
      expect(attack, 'the attack run of the test before').not.toBe('');
      const deviations = await expectDeviationsIntact(aibom, attack, archive);
      const events = await expectEntityEventsIntact(aibom, archive);
      expect(await aibom.metric('aibom_exporter_dropped_items_total')).toBe(0);
      console.log(`in front of otelcol, trace ${attack}: deviations ${deviations.join(', ')}; ${events} entity.state records`);
    }, 150_000);

    test("an OTel SDK app's logs pass aibom-collector and the Collector unchanged", async () => {
      const sent = await runApp<SentDescription>('otel-sdk-app/send.mjs', ['--endpoint', `http://127.0.0.1:${aibomGrpc}`, '--protocol', 'grpc', '--service', 'sdk-in-front']);
      expect(sent.export.logs.failed).toBe(0);
      await expectLogsAsSent(archive, sent);
    });
  });

  describe('behind it: agent -> otelcol -> aibom-collector -> backend otelcol -> Jaeger', () => {
    let aibom: Collector;
    let otelcol: Otelcol;
    /** The backend aibom-collector sends to: a second Collector in front of Jaeger, whose archive is the far end of the logs. */
    let backend: Otelcol;
    let archive: string;
    let farArchive: string;
    let otelGrpc: number;
    let attack = '';

    beforeAll(async () => {
      let backendGrpc: number;
      ({ otelcol: backend, archive: farArchive, grpc: backendGrpc } = await startOtelcol([], { BACKEND_OTLP_ENDPOINT: jaeger.otlpGrpcEndpoint }));
      const [aibomGrpc, admin] = (await freePorts(2)) as [number, number];
      aibom = await Collector.startWith(BEHIND, `http://127.0.0.1:${admin}`, {
        AIBOM_OTLP_GRPC_ENDPOINT: `127.0.0.1:${aibomGrpc}`,
        AIBOM_ADMIN_ENDPOINT: `127.0.0.1:${admin}`,
        AIBOM_DATA_DIR: mkdtempSync(join(tmpdir(), 'aibom-behind-')),
        BACKEND_OTLP_ENDPOINT: `127.0.0.1:${backendGrpc}`,
        BACKEND_INSECURE: 'true',
      });
      ({ otelcol, archive, grpc: otelGrpc } = await startOtelcol([UPSTREAM], { AIBOM_OTLP_ENDPOINT: `127.0.0.1:${aibomGrpc}` }));
      await learnAndFreeze(comm, peers(otelGrpc), aibom);
    }, 420_000);

    afterAll(async () => {
      await otelcol?.stop();
      await aibom?.stop();
      await backend?.stop();
    });

    test('kernel spans reach Jaeger under the tool spans; every agent span arrives as the agent sent it, plus aibom.*', async () => {
      const { traceId, tree } = await attackTrace(otelGrpc, { otelcol: otelcol.proc, 'aibom-collector': aibom.proc, backend: backend.proc });
      attack = traceId;

      // The archive holds what the agent sent to the Collector; aibom-collector sits after it and
      // forwards each of those spans unchanged except for the aibom.* it adds.
      const { sentByAgent, stored } = await waitFor('every span the agent sent in Jaeger', async () => {
        const a = spansOfJsonLines(archive).filter((s) => s.traceId === traceId);
        const j = (await jaeger.spans(traceId)) ?? [];
        const inJaeger = new Set(j.map((s) => s.spanId));
        return complete(a) && a.every((s) => inJaeger.has(s.spanId)) ? { sentByAgent: a, stored: j } : undefined;
      }, 30_000, 500);
      expect(sentByAgent.filter((s) => s.scope?.name === 'aibom.correlate')).toEqual([]);
      for (const want of sentByAgent) expectSameSpan(stored.find((s) => s.spanId === want.spanId)!, want, ADDED_BY_AIBOM);
      expect(tree.where((_, a) => a['aibom.span.kind'] === 'tool').length).toBeGreaterThan(0);
      expect(await otelcol.metric('otelcol_exporter_send_failed_spans')).toBe(0);
      expect(await aibom.metric('aibom_exporter_dropped_items_total')).toBe(0);
      console.log(`behind otelcol, trace ${traceId}: ${stored.length} spans (${sentByAgent.length} from the agent), ${stored.length - sentByAgent.length} made by aibom-collector`);
    }, 150_000);

    test('the attack\'s deviations reach Jaeger (spans) and the backend Collector (aibom.deviation records) intact, and so do the entity events', async () => {
      expect(attack, 'the attack run of the test before').not.toBe('');
      const deviations = await expectDeviationsIntact(aibom, attack, farArchive);
      const events = await expectEntityEventsIntact(aibom, farArchive);
      expect(await aibom.metric('aibom_exporter_dropped_items_total')).toBe(0);
      expect(await otelcol.metric('otelcol_exporter_send_failed_log_records')).toBe(0);
      console.log(`behind otelcol, trace ${attack}: deviations ${deviations.join(', ')}; ${events} entity.state records`);
    }, 150_000);

    test("an OTel SDK app's logs go through the Collector into aibom-collector and on to the backend", async () => {
      const sentBefore = await aibom.metric('aibom_exporter_sent_items_total', { signal: 'logs' });
      const sent = await runApp<SentDescription>('otel-sdk-app/send.mjs', ['--endpoint', `http://127.0.0.1:${otelGrpc}`, '--protocol', 'grpc', '--service', 'sdk-behind']);
      expect(sent.export.logs.failed).toBe(0);
      await waitFor('the SDK logs sent on by aibom-collector', async () => {
        return (await aibom.metric('aibom_exporter_sent_items_total', { signal: 'logs' })) - sentBefore >= sent.logs.length ? true : undefined;
      });
      await expectLogsAsSent(archive, sent);
      await expectLogsAsSent(farArchive, sent);
      expect(await otelcol.metric('otelcol_exporter_sent_log_records', { exporter: 'otlp_grpc/aibom' })).toBeGreaterThanOrEqual(sent.logs.length);
      expect(await otelcol.metric('otelcol_exporter_send_failed_log_records')).toBe(0);
      expect(await aibom.metric('aibom_exporter_dropped_items_total')).toBe(0);
    });
  });

  describe('the embedded default behind it: OTel SDK app -> otelcol -> aibom-collector run (no --config)', () => {
    let aibom: Collector;
    let otelcol: Otelcol;
    let archive: string;
    let otelGrpc: number;
    let telemetry: string;

    beforeAll(async () => {
      const [grpc, http, admin] = (await freePorts(3)) as [number, number, number];
      const data = mkdtempSync(join(tmpdir(), 'aibom-default-'));
      telemetry = join(data, 'telemetry.jsonl');
      aibom = await Collector.startWith(undefined, `http://127.0.0.1:${admin}`, {
        AIBOM_OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpc}`,
        AIBOM_OTLP_HTTP_ENDPOINT: `127.0.0.1:${http}`,
        AIBOM_ADMIN_ENDPOINT: `127.0.0.1:${admin}`,
        AIBOM_DATA_DIR: data,
      });
      ({ otelcol, archive, grpc: otelGrpc } = await startOtelcol([UPSTREAM], { AIBOM_OTLP_ENDPOINT: `127.0.0.1:${grpc}` }));
    }, 120_000);

    afterAll(async () => {
      await otelcol?.stop();
      await aibom?.stop();
    });

    test('spans and logs reach its file as the Collector received them (plus aibom.*)', async () => {
      const sent = await runApp<SentDescription>('otel-sdk-app/send.mjs', ['--endpoint', `http://127.0.0.1:${otelGrpc}`, '--protocol', 'grpc', '--service', 'sdk-default']);
      expect(sent.export.spans.failed).toBe(0);
      await expectLogsAsSent(telemetry, sent);
      const ids = new Set(sent.spans.map((s) => s.spanId));
      const written = await waitFor('the SDK spans in telemetry.jsonl', () => {
        const found = spansOfJsonLines(telemetry).filter((s) => ids.has(s.spanId));
        return found.length >= ids.size ? found : undefined;
      });
      const received = spansOfJsonLines(archive).filter((s) => ids.has(s.spanId));
      expect(received).toHaveLength(ids.size);
      for (const want of received) expectSameSpan(written.find((s) => s.spanId === want.spanId)!, want, ADDED_BY_AIBOM, false);
      expect(await aibom.metric('aibom_receiver_accepted_items_total', { signal: 'logs', transport: 'grpc' })).toBe(sent.logs.length);
    });
  });
});
