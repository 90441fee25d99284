import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { agentCommand, APPS, runReferenceAgent } from '../support/apps.js';
import { Collector } from '../support/collector.js';
import { startListening } from '../support/listening.js';
import { plainAttributes } from '../support/otlp-json.js';
import type { JsonKeyValue } from '../support/jaeger.js';
import { freePort } from '../support/ports.js';
import { Proc, waitFor } from '../support/process.js';
import { requireTool } from '../support/tools.js';

/**
 * Misuse by provenance on the reference scenario with the real agents: the injected instructions live
 * in the knowledge-base document `faq-warranty`; the attack's MCP file path and its http_post `notify`
 * address are written there, not in the user's request. LangChain.js with OpenInference (content by
 * default) and LangChain Python with OpenLLMetry (content on by default), the real MCP servers, the
 * real eBPF sensor; only the model is scripted.
 */
const sensor = requireTool('AIBOM_SENSOR', 'bpf/.output/aibom-sensor');
if (process.getuid?.() !== 0) throw new Error('the provenance end-to-end tests need root for the eBPF sensor (CI runs as root)');
if (!existsSync(join(APPS, 'node_modules'))) throw new Error('test/apps is not installed: run test/apps/setup.sh (or .ci/install-tools.sh)');

const ARG_RULE = 'tool-argument-from-untrusted-content';
const KERNEL_RULE = 'tool-activity-from-untrusted-content';

interface Deviation {
  traceId: string;
  spanId: string;
  a: Record<string, any>;
}

/** The collector's file output: deviation records, and every span's name by span id. */
function readOutput(file: string): { deviations: Deviation[]; names: Map<string, string>; deviationSpans: Map<string, string> } {
  const deviations: Deviation[] = [];
  const names = new Map<string, string>();
  const deviationSpans = new Map<string, string>();
  if (!existsSync(file)) return { deviations, names, deviationSpans };
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const doc = JSON.parse(line) as Record<string, any>;
    for (const rl of doc.resourceLogs ?? [])
      for (const sl of rl.scopeLogs ?? [])
        for (const r of sl.logRecords ?? []) if (r.eventName === 'aibom.deviation') deviations.push({ traceId: r.traceId, spanId: r.spanId, a: plainAttributes(r.attributes as JsonKeyValue[]) });
    for (const rs of doc.resourceSpans ?? [])
      for (const ss of rs.scopeSpans ?? [])
        for (const s of ss.spans ?? []) {
          names.set(s.spanId, s.name);
          if (String(s.name).startsWith('deviation ')) deviationSpans.set(s.parentSpanId, s.name);
        }
  }
  return { deviations, names, deviationSpans };
}

interface AgentRun {
  scenario: string;
  traceId: string;
  ok: boolean;
  error?: string;
}

describe('provenance with the embedded default (no --config): real agents, the reference attack and normal runs', () => {
  let collector: Collector;
  let llm: { proc: Proc; ports: number[] };
  let services: { proc: Proc; ports: number[] };
  let data: string;
  let otlpPort: number;
  let js: AgentRun[];
  let py: AgentRun[];

  beforeAll(async () => {
    llm = await startListening(process.execPath, [join(APPS, 'fake-llm', 'server.mjs'), '--port', '0']);
    services = await startListening(process.execPath, [join(APPS, 'services.mjs')]);
    data = mkdtempSync(join(tmpdir(), 'aibom-provenance-'));
    const [grpc, http, admin] = [await freePort(), await freePort(), await freePort()];
    otlpPort = grpc;
    collector = await Collector.startWith(undefined, `http://127.0.0.1:${admin}`, {
      AIBOM_DATA_DIR: data,
      AIBOM_OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpc}`,
      AIBOM_OTLP_HTTP_ENDPOINT: `127.0.0.1:${http}`,
      AIBOM_ADMIN_ENDPOINT: `127.0.0.1:${admin}`,
    });
    const peers = { llm, services, otlpPort };
    const jsOut = await runReferenceAgent<{ runs: AgentRun[] }>(
      process.execPath,
      [
        join(APPS, 'agent-js', 'agent.mjs'),
        '--runs',
        JSON.stringify([
          { scenario: 'attack', prompt: 'I need help with my warranty claim' },
          { scenario: 'ticket', prompt: 'Please let a human call me, my email is jane.doe@example.com' },
          { scenario: 'faq-mcp', prompt: 'What does faq.md say about shipping?' },
          { scenario: 'faq', prompt: 'How long does the warranty last?' },
        ]),
      ],
      peers,
      { AGENT_MCP: 'filesystem' },
    );
    js = jsOut.runs;
    const venvBin = join(APPS, 'agent-py', '.venv', 'bin');
    const pyOut = await runReferenceAgent<{ runs: AgentRun[] }>(
      join(venvBin, 'python'),
      [
        join(APPS, 'agent-py', 'agent.py'),
        '--runs',
        JSON.stringify([
          { scenario: 'attack', prompt: 'I need help with my warranty claim' },
          { scenario: 'ticket', prompt: 'Please let a human call me, my email is jane.doe@example.com' },
        ]),
      ],
      peers,
    );
    py = pyOut.runs;
    for (const r of [...js, ...py]) if (!r.ok) throw new Error(`${r.scenario}: ${r.error}`);
  }, 240_000);

  afterAll(async () => {
    await collector?.stop();
    await llm?.proc.stop();
    await services?.proc.stop();
  });

  /** Waits until both attack traces have their argument deviations in the output file. */
  async function settled() {
    const file = join(data, 'telemetry.jsonl');
    const attacks = [js, py].map((runs) => runs.find((r) => r.scenario === 'attack')!.traceId);
    let last: ReturnType<typeof readOutput> | undefined;
    try {
      return await waitFor('argument deviations of both attack traces', () => {
        last = readOutput(file);
        const d = last.deviations;
        return attacks.every((t) => d.filter((x) => x.traceId === t && x.a['aibom.deviation.rule'] === ARG_RULE).length >= 2) ? last : undefined;
      }, 45_000, 500);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${JSON.stringify(last?.deviations.map((d) => d.a['aibom.deviation.observed']))}\n${collector.proc.tail(30)}`);
    }
  }

  test('the MCP file path and the http_post notify address are traced to the search_kb document, with the chain (JS and Python)', async () => {
    const { deviations, names, deviationSpans } = await settled();
    for (const [runs, framework] of [[js, 'LangChain.js'], [py, 'LangChain Python']] as const) {
      const trace = runs.find((r) => r.scenario === 'attack')!.traceId;
      const mine = deviations.filter((d) => d.traceId === trace && d.a['aibom.deviation.rule'] === ARG_RULE);
      const dump = `${framework}\n${JSON.stringify(mine.map((d) => d.a), null, 1).slice(0, 4000)}`;
      const read = mine.find((d) => d.a['aibom.chain.tool.name'] === 'read_text_file');
      expect(read, dump).toBeDefined();
      expect(read!.a['aibom.deviation.observed']).toBe('path customers.csv');
      expect(names.get(read!.a['aibom.deviation.source.span_id']), dump).toMatch(/search_kb$/);
      expect(names.get(read!.spanId)).toMatch(/read_text_file$/);
      expect(read!.a['aibom.chain.prompt']).toBe('I need help with my warranty claim');
      expect(read!.a['aibom.chain.llm.model']).toBe('gpt-4o-mini');
      expect(read!.a['security_rule.category']).toBe('misuse');
      const notify = mine.find((d) => d.a['aibom.chain.tool.name'] === 'http_post' && (d.a['aibom.provenance.values'] as string[]).includes('email audit-desk@warranty-check.example'));
      expect(notify, dump).toBeDefined();
      expect(notify!.a['aibom.deviation.source.span_id']).toBe(read!.a['aibom.deviation.source.span_id']);
      expect(names.get(notify!.spanId)).toMatch(/http_post$/);
      // The same deviation as a child span of the misused tool span (a tag search finds the trace).
      expect(deviationSpans.get(read!.spanId)).toBe(`deviation ${ARG_RULE}`);
      // The injected document itself: instruction-shaped text, severity low.
      const instr = deviations.find((d) => d.traceId === trace && d.a['aibom.deviation.rule'] === 'instruction-in-tool-result');
      expect(instr?.spanId).toBe(read!.a['aibom.deviation.source.span_id']);
      expect(instr?.a['aibom.deviation.severity']).toBe('low');
    }
    console.log(`provenance e2e: ${deviations.length} deviations: ${[...new Set(deviations.map((d) => `${d.a['aibom.deviation.rule']} ${d.a['aibom.chain.tool.name']} ${d.a['aibom.deviation.observed']}`.slice(0, 120)))].join(' | ')}`);
  }, 90_000);

  test('normal runs raise nothing: an e-mail the user typed, a file the user named, a result that only mentions values', async () => {
    const { deviations } = await settled();
    // Every run's trace evaluated (they settle in the order they ended), and its deviations written.
    const runs = js.length + py.length;
    await waitFor('every run evaluated', async () => ((await collector.metric('aibom_provenance_traces_total')) >= runs ? true : undefined), 45_000, 500);
    await new Promise((r) => setTimeout(r, 1_000));
    const all = readOutput(join(data, 'telemetry.jsonl')).deviations;
    for (const r of [...js, ...py].filter((x) => x.scenario !== 'attack')) {
      const misuse = all.filter((d) => d.traceId === r.traceId && d.a['aibom.deviation.rule'] !== 'instruction-in-tool-result');
      expect(misuse.map((d) => d.a['aibom.deviation.observed']), `${r.scenario}`).toEqual([]);
    }
    expect(deviations.length).toBeGreaterThan(0);
    expect(await collector.metric('aibom_provenance_content_available', { agent: 'support-agent' })).toBe(1);
    expect(await collector.metric('aibom_provenance_content_available', { agent: 'support-agent-py' })).toBe(1);
  }, 90_000);
});

describe('provenance of kernel activity: the file the MCP server opened was named by the injected document', () => {
  test('LangChain.js + server-filesystem over stdio, eBPF: the open of customers.csv under read_text_file', async () => {
    const llm = await startListening(process.execPath, [join(APPS, 'fake-llm', 'server.mjs'), '--port', '0']);
    const services = await startListening(process.execPath, [join(APPS, 'services.mjs')]);
    const dir = mkdtempSync(join(tmpdir(), 'aibom-provenance-kernel-'));
    const out = join(dir, 'out.jsonl');
    const otlpPort = await freePort();
    const tokenFile = join(dir, 'secrets', 'support-agent.token');
    mkdirSync(dirname(tokenFile), { recursive: true });
    writeFileSync(tokenFile, readFileSync(join(APPS, 'identity', 'support-agent.token')));
    const collector = await Collector.start(`
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:${otlpPort} }
  ebpf:
    required: true
    sensor: { path: ${sensor} }
    monitor: { comms: [aibom-prov-js] }
processors:
  enrich:
  normalize:
  correlate: { settle: 1s, window: 8s }
  provenance:
  batch: { timeout: 100ms }
exporters:
  file: { path: ${out} }
service:
  admin: { endpoint: \${ADMIN} }
  pipelines:
    traces: { receivers: [otlp], processors: [enrich, normalize, correlate, provenance, batch], exporters: [file] }
    logs: { receivers: [otlp, ebpf], processors: [enrich, correlate, provenance, batch], exporters: [file] }
`);
    try {
      const command = agentCommand('aibom-prov-js', process.execPath, join(tmpdir(), 'aibom-agent-bin'));
      const run = await runReferenceAgent<{ runs: AgentRun[] }>(command, [join(APPS, 'agent-js', 'agent.mjs'), '--scenario', 'attack', '--prompt', 'I need help with my warranty claim'], { llm, services, otlpPort }, { AGENT_MCP: 'filesystem', AGENT_TOKEN_FILE: tokenFile });
      const trace = run.runs[0]!.traceId;
      let last: ReturnType<typeof readOutput> | undefined;
      const found = await waitFor('a kernel provenance deviation for the open of customers.csv', () => {
        last = readOutput(out);
        return last.deviations.find((d) => d.traceId === trace && d.a['aibom.deviation.rule'] === KERNEL_RULE && String(d.a['aibom.deviation.observed']).endsWith('/customers.csv'));
      }, 60_000, 500).catch((err: Error) => {
        throw new Error(`${err.message}\n${JSON.stringify(last?.deviations.map((d) => [d.a['aibom.deviation.rule'], d.a['aibom.deviation.observed']]))}\n${collector.proc.tail(30)}`);
      });
      const { names } = last!;
      expect(found.a['aibom.chain.tool.name']).toBe('read_text_file');
      expect(names.get(found.a['aibom.deviation.source.span_id'])).toBe('search_kb');
      // The causing span is the kernel span correlate placed under the tool (through the MCP server's process span).
      expect(names.get(found.spanId)).toMatch(/open|customers\.csv/);
      expect(found.a['aibom.chain.data']).toEqual(expect.arrayContaining([join(realpathSync(APPS), 'data', 'customers.csv')]));
    } finally {
      await collector.stop();
      await llm.proc.stop();
      await services.proc.stop();
    }
  }, 180_000);
});
