import { existsSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { agentCommand, APPS, runReferenceAgent } from '../support/apps.js';
import { Collector } from '../support/collector.js';
import { Jaeger, type JaegerSpan } from '../support/jaeger.js';
import { readMachineId } from '../../pipeline/machine-id.js';
import { startListening } from '../support/listening.js';
import { spansOf } from '../support/otlp-json.js';
import { freePort } from '../support/ports.js';
import { Proc, waitFor } from '../support/process.js';
import { jaegerBin, requireTool } from '../support/tools.js';
import { TraceTree } from '../support/trace-tree.js';

/**
 * The reference scenario's attack, run by real agent frameworks (LangChain.js with OpenInference,
 * LangChain Python with OpenLLMetry), real MCP servers over stdio, the real eBPF sensor and a real
 * Jaeger v2; only the LLM is a local fake. The trace Jaeger returns must hold the execution chain:
 * agent -> LLM calls (with the connection to the model server) -> tool calls -> the MCP server's
 * process -> the file it opened.
 */
const jaeger = jaegerBin();
const sensor = requireTool('AIBOM_SENSOR', 'bpf/.output/aibom-sensor');
if (process.getuid?.() !== 0) throw new Error('the execution-chain tests need root for the eBPF sensor (CI runs as root)');
if (!existsSync(join(APPS, 'node_modules')) || !existsSync(join(APPS, 'agent-py', '.venv', 'bin', 'python'))) {
  throw new Error('test/apps is not installed: run test/apps/setup.sh (or .ci/install-tools.sh)');
}

/** Kernel spans one normal reference run may show in its trace once plumbing is folded. */
const MAX_KERNEL_SPANS_PER_NORMAL_RUN = 40;

const jsAgent = () => agentCommand('aibom-agent-js', process.execPath, join(tmpdir(), 'aibom-agent-bin'));

function pyAgent(): string {
  const venvBin = join(APPS, 'agent-py', '.venv', 'bin');
  // Inside the venv's bin/, so the interpreter still finds the venv (pyvenv.cfg) beside it.
  return agentCommand('aibom-agent-py', realpathSync(join(venvBin, 'python')), venvBin);
}

interface AgentOutput {
  pid: number;
  tokenFile: string;
  runs: { scenario: string; traceId: string; spanId: string; ok: boolean; toolCalls: { name: string }[]; error?: string }[];
  mcpChildren: { pid: number; cmdline: string }[];
}

/**
 * Kernel spans name the host as the agent's spans do (host.id, the machine-id): Jaeger sees one host, so
 * it never computes a clock skew between a kernel span and the agent span it sits under.
 */
function expectOneHost(tree: TraceTree, agentSpan: JaegerSpan): void {
  expect(tree.attr(agentSpan, 'host.id'), agentSpan.name).toBe(readMachineId());
  for (const k of tree.kernel()) expect(tree.attr(k, 'host.id'), k.name).toBe(readMachineId());
  const skewed = tree.kernel().filter((k) => /clock skew adjustment (disabled|delta)/.test(JSON.stringify(tree.attr(k, '@jaeger@warnings') ?? '')));
  expect(skewed.map((k) => k.name)).toEqual([]);
}

describe('execution chains in Jaeger: kernel activity under the LangChain/MCP span that caused it', () => {
  let j: Jaeger;
  let collector: Collector;
  let llm: { proc: Proc; ports: number[] };
  let services: { proc: Proc; ports: number[] };
  let otlpPort: number;
  let outFile: string;
  const placed: { right: number; all: number } = { right: 0, all: 0 };

  beforeAll(async () => {
    j = await Jaeger.start(jaeger);
    llm = await startListening(process.execPath, [join(APPS, 'fake-llm', 'server.mjs'), '--port', '0']);
    services = await startListening(process.execPath, [join(APPS, 'services.mjs')]);
    otlpPort = await freePort();
    outFile = join(mkdtempSync(join(tmpdir(), 'aibom-chain-')), 'out.jsonl');
    collector = await Collector.start(`
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:${otlpPort} }
  ebpf:
    required: true
    sensor: { path: ${sensor} }
    monitor: { comms: [aibom-agent-js, aibom-agent-py] }
    credential_paths: [${join(APPS, 'identity')}/]
processors:
  enrich:
  normalize:
  correlate: { settle: 1s, window: 30s }
  batch: { timeout: 100ms }
exporters:
  otlp/jaeger:
    endpoint: ${j.otlpGrpcEndpoint}
    tls: { insecure: true }
  file: { path: ${outFile}, flush_interval: 0s }
service:
  admin: { endpoint: \${ADMIN} }
  pipelines:
    traces: { receivers: [otlp], processors: [enrich, normalize, correlate, batch], exporters: [otlp/jaeger, file] }
    logs: { receivers: [otlp, ebpf], processors: [enrich, correlate, batch], exporters: [file] }
`);
  }, 240_000);

  afterAll(async () => {
    await collector?.stop();
    await llm?.proc.stop();
    await services?.proc.stop();
    await j?.stop();
    if (placed.all > 0) console.log(`correlation precision over checked kernel spans: ${placed.right}/${placed.all}`);
  });

  function runAgent(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<AgentOutput> {
    return runReferenceAgent<AgentOutput>(command, args, { llm, services, otlpPort }, env);
  }

  /**
   * Waits until the trace holds the open of `file` (kernel events arrive after their spans) and its
   * kernel spans stopped changing for 5 s, so counting them is fair.
   */
  async function settledTrace(traceId: string, file: string): Promise<TraceTree> {
    let last: TraceTree | undefined;
    let count = -1;
    let since = Date.now();
    try {
      return await waitFor(`the open of ${file} in trace ${traceId}, then no new kernel span for 5 s`, async () => {
        const spans = await j.spans(traceId);
        if (!spans) return undefined;
        const tree = (last = new TraceTree(spans));
        const kernel = tree.kernel();
        if (kernel.length !== count) {
          [count, since] = [kernel.length, Date.now()];
          return undefined;
        }
        return Date.now() - since >= 5000 && kernel.some((s) => String(tree.attr(s, 'file.path')).endsWith(`/${file}`)) ? tree : undefined;
      }, 60_000, 500);
    } catch (err) {
      throw new Error(`${(err as Error).message}\ntrace so far:\n${last?.outline() ?? '(none)'}\ncollector:\n${collector.proc.tail(40)}`);
    }
  }

  /** The agent's start-up read of its service-account token: its own span (unmatched, in its process's activity), flagged. */
  async function expectTokenRead(tokenFile: string): Promise<void> {
    const read = await waitFor(`a span for the read of ${tokenFile}`, () => {
      const spans = existsSync(outFile) ? spansOf(readFileSync(outFile, 'utf8')) : [];
      return spans.find((s) => s.scope === 'aibom.correlate' && s.attributes['file.path'] === tokenFile);
    }, 60_000, 1000);
    expect(read.name).toBe(`open ${tokenFile}`);
    expect(read.attributes['aibom.identity.credential']).toBe(true);
  }

  /** A normal run's trace: plumbing folded, at most MAX_KERNEL_SPANS_PER_NORMAL_RUN kernel spans, the file the tool read still its own span. */
  async function expectReadable(agent: string, out: AgentOutput): Promise<void> {
    const run = out.runs[0]!;
    expect(run.ok, run.error).toBe(true);
    const tree = await settledTrace(run.traceId, 'faq.md');
    const kernel = tree.kernel();
    const outline = `\n${tree.outline()}`;
    console.log(`kernel spans in a normal ${agent} run (trace ${run.traceId}): ${kernel.length}${outline}`);
    const faq = kernel.find((s) => String(tree.attr(s, 'file.path')).endsWith('/faq.md'))!;
    expect(faq.name, outline).toBe(`open ${String(tree.attr(faq, 'file.path'))}`);
    expect(kernel.length, outline).toBeLessThanOrEqual(MAX_KERNEL_SPANS_PER_NORMAL_RUN);
  }

  /** Counts kernel spans whose placement can be judged from what they touched. */
  function judge(tree: TraceTree, expectations: { match: (a: Record<string, unknown>) => boolean; under: (s: ReturnType<TraceTree['where']>[number]) => boolean }[]): string[] {
    const wrong: string[] = [];
    for (const s of tree.kernel()) {
      const a = tree.attrs.get(s.spanId)!;
      if (a['aibom.kernel.kind'] === 'process') continue;
      const e = expectations.find((x) => x.match(a));
      if (!e) continue;
      placed.all++;
      if (tree.ancestors(s).some(e.under)) placed.right++;
      else wrong.push(`${s.name} under ${tree.parent(s)?.name ?? '(root)'}`);
    }
    return wrong;
  }

  function assertChain(tree: TraceTree, toolSpan: (name: string) => ReturnType<TraceTree['where']>[number] | undefined, llmSpans: ReturnType<TraceTree['where']>, mcpToolName: string): void {
    const [llmPort] = llm.ports;
    const [kbPort, ticketPort] = services.ports;
    const outline = `\n${tree.outline()}`;

    // LLM calls, one of them with the connection to the model server beneath it.
    expect(llmSpans.length, outline).toBeGreaterThanOrEqual(4);
    const toLlm = tree.kernel().filter((s) => tree.attr(s, 'network.peer.port') === llmPort || String(tree.attr(s, 'server.port')) === String(llmPort));
    expect(toLlm.length, `no kernel activity towards the model server${outline}`).toBeGreaterThan(0);
    for (const k of toLlm) expect(tree.ancestors(k).some((a) => llmSpans.includes(a)), `${k.name} is not under an LLM call${outline}`).toBe(true);

    // The MCP tool call -> the MCP server process -> the file it opened.
    const readTool = toolSpan(mcpToolName);
    expect(readTool, `no ${mcpToolName} tool span${outline}`).toBeDefined();
    const open = tree.kernel().find((s) => String(tree.attr(s, 'file.path')).endsWith('/customers.csv'))!;
    expect(open.name, outline).toBe(`open ${String(tree.attr(open, 'file.path'))}`);
    const chain = tree.ancestors(open);
    expect(chain, outline).toContain(readTool);
    const proc = chain[0]!;
    expect(tree.attr(proc, 'aibom.kernel.kind'), outline).toBe('process');
    expect(String(tree.attr(proc, 'process.command_args')), outline).toMatch(/server-filesystem|mcp_server\.py/);
    expect(tree.attr(open, 'aibom.correlation.key')).toBe('process_tree');

    // The approved tools' network activity sits under those tools.
    const searchKb = toolSpan('search_kb')!;
    const httpPost = toolSpan('http_post')!;
    for (const [port, tool] of [[kbPort, searchKb], [ticketPort, httpPost]] as const) {
      const k = tree.kernel().filter((s) => tree.attr(s, 'network.peer.port') === port || tree.attr(s, 'server.port') === port);
      expect(k.length, `no kernel activity towards port ${port}${outline}`).toBeGreaterThan(0);
      expect(k.some((s) => tree.attr(s, 'aibom.kernel.kind') === 'connect'), `no connect span towards port ${port}${outline}`).toBe(true);
      expect(k.some((s) => tree.ancestors(s).some((a) => a.name === tool.name && tree.attr(a, 'aibom.span.kind') === 'tool')), outline).toBe(true);
    }

    const misplaced = judge(tree, [
      { match: (a) => String(a['file.path']).endsWith('/customers.csv'), under: (s) => s === readTool },
      { match: (a) => a['network.peer.port'] === llmPort || a['server.port'] === llmPort, under: (s) => llmSpans.includes(s) },
      { match: (a) => a['network.peer.port'] === kbPort || a['server.port'] === kbPort, under: (s) => s.name === searchKb.name && tree.attr(s, 'aibom.span.kind') === 'tool' },
      { match: (a) => a['network.peer.port'] === ticketPort || a['server.port'] === ticketPort, under: (s) => s.name === httpPost.name && tree.attr(s, 'aibom.span.kind') === 'tool' },
    ]);
    expect(misplaced, outline).toEqual([]);
    console.log(`trace ${open.traceId}:${outline}`);
  }

  test('a span exported 10 s after its kernel events still gets them', async () => {
    const command = jsAgent();
    const file = join(mkdtempSync(join(tmpdir(), 'aibom-late-')), 'secret-notes.txt');
    writeFileSync(file, 'late');
    const proc = new Proc(command, [join(APPS, 'late-span', 'late.mjs'), '--file', file, '--delay-ms', '10000'], {
      cwd: APPS,
      env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${otlpPort}` },
    });
    expect(await proc.exited, proc.tail()).toBe(0);
    const out = JSON.parse(proc.stdout.trim()) as { traceId: string; spanId: string; endedAt: number; exportedAt: number };
    expect(out.exportedAt - out.endedAt).toBeGreaterThanOrEqual(10_000);
    const tree = await waitFor('the open under the late tool span', async () => {
      const spans = await j.spans(out.traceId);
      const t = spans && new TraceTree(spans);
      return t?.kernel().some((s) => t.attr(s, 'file.path') === file) ? t : undefined;
    }, 30_000, 500);
    const open = tree.kernel().find((s) => tree.attr(s, 'file.path') === file)!;
    expect(open.parentSpanId).toBe(out.spanId);
    expect(tree.attr(open, 'aibom.correlation.key')).toBe('pid_time');
  });

  test('LangChain.js agent (OpenInference) with MCP server-filesystem', async () => {
    const out = await runAgent(jsAgent(), [join(APPS, 'agent-js', 'agent.mjs'), '--scenario', 'attack', '--prompt', 'I need help with my warranty claim'], { AGENT_MCP: 'filesystem' });
    const run = out.runs[0]!;
    expect(run.ok, run.error).toBe(true);
    const tree = await settledTrace(run.traceId, 'customers.csv');
    const tools = tree.where((_, a) => a['aibom.span.kind'] === 'tool');
    const llms = tree.where((_, a) => a['aibom.span.kind'] === 'llm');
    assertChain(tree, (name) => tools.find((t) => t.name === name), llms, 'read_text_file');
    expect(tree.where((s) => s.name === 'agent.run')).toHaveLength(1);
    expectOneHost(tree, tree.where((s) => s.name === 'agent.run')[0]!);
    await expectTokenRead(out.tokenFile);
  });

  test('LangChain Python agent (OpenLLMetry) with a Python MCP SDK server started per tool call', async () => {
    const out = await runAgent(pyAgent(), [join(APPS, 'agent-py', 'agent.py'), '--runs', JSON.stringify([{ scenario: 'attack', prompt: 'I need help with my warranty claim' }])], {
      AGENT_MCP: 'python',
      OTEL_EXPERIMENTAL_RESOURCE_DETECTORS: 'process',
    });
    const run = out.runs[0]!;
    expect(run.ok, run.error).toBe(true);
    const tree = await settledTrace(run.traceId, 'customers.csv');
    const tools = tree.where((_, a) => a['aibom.span.kind'] === 'tool');
    const llms = tree.where((_, a) => a['aibom.span.kind'] === 'llm');
    assertChain(tree, (name) => tools.find((t) => t.name.includes(name)), llms, 'read_text_file');
    // The Python SDK's resource names no host; enrich gives its verified process this host's id.
    expectOneHost(tree, llms[0]!);
    await expectTokenRead(out.tokenFile);
  });

  test('a normal run of the LangChain.js agent reads in at most 40 kernel spans', async () => {
    const out = await runAgent(jsAgent(), [join(APPS, 'agent-js', 'agent.mjs'), '--scenario', 'faq-mcp', '--prompt', 'How do I reset my password?'], { AGENT_MCP: 'filesystem' });
    await expectReadable('LangChain.js', out);
  });

  test('a normal run of the LangChain Python agent reads in at most 40 kernel spans', async () => {
    const out = await runAgent(pyAgent(), [join(APPS, 'agent-py', 'agent.py'), '--runs', JSON.stringify([{ scenario: 'faq-mcp', prompt: 'How do I reset my password?' }])], {
      AGENT_MCP: 'python',
      OTEL_EXPERIMENTAL_RESOURCE_DETECTORS: 'process',
    });
    await expectReadable('LangChain Python', out);
  });
});
