import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readMachineId } from '../../pipeline/machine-id.js';
import { APPS } from '../support/apps.js';
import { Collector } from '../support/collector.js';
import { startListening } from '../support/listening.js';
import { freePort } from '../support/ports.js';
import { plainAttributes, traceOf } from '../support/otlp-json.js';
import { Proc, waitFor } from '../support/process.js';
import { requireTool } from '../support/tools.js';
import { TraceTree } from '../support/trace-tree.js';

/**
 * Coverage with nothing named in config: the embedded default (`aibom-collector run`, no --config, as
 * root), the LangChain.js reference agent run the way users run it (`OPENAI_API_KEY` in its environment,
 * the SDK's default batch span processor, MCP server-filesystem over stdio). The agent is recognised by
 * its environment, at its exec when it starts after the collector, by the sensor's start-up scan when it
 * was already running; its MCP server is followed either way. The trace comes from the default config's
 * own output, the OTLP JSON lines file under AIBOM_DATA_DIR.
 */
requireTool('AIBOM_SENSOR', 'bpf/.output/aibom-sensor');
if (process.getuid?.() !== 0) throw new Error('the default-coverage tests need root for the eBPF sensor (CI runs as root)');
if (!existsSync(join(APPS, 'node_modules'))) throw new Error('test/apps is not installed: run test/apps/setup.sh (or .ci/install-tools.sh)');

interface AgentOutput {
  pid: number;
  runs: { scenario: string; traceId: string; ok: boolean; error?: string }[];
  mcpChildren: { pid: number; cmdline: string[] }[];
  /** What its OTLP exporter reported: spans sent and refused, and the refusals' messages. */
  export: { ok: number; failed: number; errors: string[] };
}

const PROMPT = 'I need help with my warranty claim';
const API_KEY = 'sk-proj-coverage-test-0123456789';

describe('the embedded default watches an AI agent nobody named, with its MCP server', () => {
  let llm: { proc: Proc; ports: number[] };
  let services: { proc: Proc; ports: number[] };

  beforeAll(async () => {
    llm = await startListening(process.execPath, [join(APPS, 'fake-llm', 'server.mjs'), '--port', '0']);
    services = await startListening(process.execPath, [join(APPS, 'services.mjs')]);
  }, 60_000);

  afterAll(async () => {
    await llm?.proc.stop();
    await services?.proc.stop();
  });

  /** The agent as users run it: its own environment, the API key in it, nothing about aibom anywhere. */
  function startAgent(grpcPort: number, extraEnv: NodeJS.ProcessEnv = {}, python = false, runs = 1): Proc {
    const [llmPort] = llm.ports;
    const [kbPort, ticketPort] = services.ports;
    const attacks = JSON.stringify(Array.from({ length: runs }, () => ({ scenario: 'attack', prompt: PROMPT })));
    const [command, args] = python
      ? [join(APPS, 'agent-py', '.venv', 'bin', 'python'), [join(APPS, 'agent-py', 'agent.py'), '--runs', attacks]]
      : [process.execPath, [join(APPS, 'agent-js', 'agent.mjs'), '--runs', attacks]];
    return new Proc(command, args, {
      cwd: APPS,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        OPENAI_API_KEY: API_KEY,
        FAKE_LLM_URL: `http://127.0.0.1:${llmPort}/v1`,
        KB_URL: `http://127.0.0.1:${kbPort}`,
        TICKET_URL: `http://127.0.0.1:${ticketPort}`,
        AGENT_MCP: python ? 'python' : 'filesystem',
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${grpcPort}`,
        ...extraEnv,
      },
    });
  }

  async function finished(agent: Proc): Promise<AgentOutput> {
    const code = await agent.exited;
    if (code !== 0) throw new Error(`agent exited ${code}\n${agent.tail(60)}`);
    const out = JSON.parse(agent.stdout.trim().split('\n').pop()!) as AgentOutput;
    expect(out.runs[0]!.ok, out.runs[0]!.error).toBe(true);
    return out;
  }

  async function sensorUp(c: Collector): Promise<void> {
    const up = await c.metric('aibom_ebpf_sensor_up');
    if (up !== 1) throw new Error(`the eBPF sensor is not running under the default config\n${c.proc.tail(40)}`);
  }

  /** The first run's trace from the default config's file, once it holds the MCP server's open of customers.csv. */
  async function chainOf(c: Collector, dataDir: string, traceId: string): Promise<TraceTree> {
    const file = join(dataDir, 'telemetry.jsonl');
    let last: TraceTree | undefined;
    try {
      return await waitFor(`the MCP server's open of customers.csv in trace ${traceId}`, () => {
        if (!existsSync(file)) return undefined;
        last = new TraceTree(traceOf(readFileSync(file, 'utf8'), traceId));
        return last.kernel().some((s) => String(last!.attr(s, 'file.path')).endsWith('/customers.csv')) ? last : undefined;
      }, 60_000, 500);
    } catch (err) {
      throw new Error(`${(err as Error).message}\ntrace so far:\n${last?.outline() ?? '(none)'}\ncollector:\n${c.proc.tail(40)}`);
    }
  }

  /** The open sits under the read_text_file tool span, below the MCP server's process span; returns both. */
  function assertMcpChain(tree: TraceTree, out: AgentOutput, server = /server-filesystem/): { open: ReturnType<TraceTree['kernel']>[number]; proc: ReturnType<TraceTree['kernel']>[number] } {
    const outline = `\n${tree.outline()}`;
    const open = tree.kernel().find((s) => String(tree.attr(s, 'file.path')).endsWith('/customers.csv'))!;
    const chain = tree.ancestors(open);
    const tool = chain.find((s) => tree.attr(s, 'aibom.span.kind') === 'tool');
    expect(tool?.name, outline).toContain('read_text_file');
    const proc = chain[0]!;
    expect(tree.attr(proc, 'aibom.kernel.kind'), outline).toBe('process');
    expect(String(tree.attr(proc, 'process.command_args')), outline).toMatch(server);
    expect(tree.attr(proc, 'process.parent_pid'), `the MCP server is the agent's child${outline}`).toBe(out.pid);
    return { open, proc };
  }

  type Json = Record<string, unknown>;
  const propOf = (c: Json, name: string): string | undefined => ((c.properties ?? []) as { name: string; value: string }[]).find((p) => p.name === name)?.value;

  /** The agent and its MCP server in the runtime AI-BOM (GET /v1/aibom), once both are there. */
  async function bomEntities(c: Collector): Promise<{ agent: Json; mcp: Json }> {
    return waitFor(`the agent and its MCP server in /v1/aibom\n${c.proc.tail(20)}`, async () => {
      const bom = (await (await fetch(`${c.adminUrl}/v1/aibom`)).json()) as Json;
      const all = [...((bom.components ?? []) as Json[]), ...((bom.services ?? []) as Json[])];
      const agent = all.find((x) => propOf(x, 'aibom-collector:kind') === 'agent');
      const mcp = all.find((x) => propOf(x, 'aibom-collector:kind') === 'mcp_server');
      return agent && mcp ? { agent, mcp } : undefined;
    }, 30_000, 500);
  }

  function kernelResourceOf(tree: TraceTree, pid: number): Record<string, unknown> | undefined {
    const s = tree.kernel().find((k) => tree.attr(k, 'process.pid') === pid && tree.attr(k, 'aibom.monitor.reason') !== undefined);
    return s ? tree.attrs.get(s.spanId) : undefined;
  }

  test('an agent started after the collector: watched from its exec, its MCP server from its fork, complete', async () => {
    const { collector, grpcPort, dataDir } = await Collector.startDefault();
    try {
      await sensorUp(collector);
      const out = await finished(startAgent(grpcPort));
      const tree = await chainOf(collector, dataDir, out.runs[0]!.traceId);
      const { open } = assertMcpChain(tree, out);
      const outline = `\n${tree.outline()}`;
      expect(tree.attr(open, 'aibom.monitor.coverage'), outline).toBe('complete');
      expect(tree.attr(open, 'aibom.monitor.reason'), outline).toBe('inherited');
      // The agent itself: recognised by its API-key variable's name at exec.
      const agent = kernelResourceOf(tree, out.pid);
      expect(agent, `no kernel span of the agent (pid ${out.pid})${outline}`).toBeDefined();
      expect(agent).toMatchObject({ 'aibom.monitor.reason': 'env_marker', 'aibom.monitor.env_marker': 'OPENAI_*', 'aibom.monitor.coverage': 'complete' });
      expect(agent!['aibom.monitor.partial_reason']).toBeUndefined();
      // The runtime AI-BOM says nothing is missing.
      const bom = await bomEntities(collector);
      expect(propOf(bom.agent, 'aibom-collector:partial_coverage')).toBeUndefined();
      expect(propOf(bom.mcp, 'aibom-collector:partial_coverage')).toBeUndefined();
      // Names only: the key's value is nowhere in what was exported.
      expect(readFileSync(join(dataDir, 'telemetry.jsonl'), 'utf8')).not.toContain(API_KEY);
      console.log(`agent started after the collector, first run's trace:${outline}`);
    } finally {
      await collector.stop();
    }
  }, 180_000);

  // An agent's spans carry its conversations and tool results (OpenInference records both by default): a
  // busy agent's exports are megabytes, and grpc-go's 4 MiB limit refused most of them, the attack's first.
  test('a busy agent: every span of its multi-megabyte exports is taken', async () => {
    const { collector, grpcPort } = await Collector.startDefault();
    try {
      await sensorUp(collector);
      const out = await finished(startAgent(grpcPort, {}, false, 12));
      expect(out.runs.every((r) => r.ok)).toBe(true);
      expect(out.export.errors).toEqual([]);
      expect(out.export.failed).toBe(0);
      expect(await collector.metric('aibom_receiver_accepted_items_total', { signal: 'traces' })).toBe(out.export.ok);
      // What made this test: exports above the old limit, all of them taken.
      expect(await collector.metric('aibom_receiver_rejected_requests_total', { reason: 'too_large' })).toBe(0);
      console.log(`busy agent: ${out.export.ok} spans exported, all taken`);
    } finally {
      await collector.stop();
    }
  }, 180_000);

  // The Python SDK's default resource has no process.pid: correlate takes the process holding the agent's
  // OTLP connection instead, so nothing is set here that users would not set.
  test('a LangChain Python agent started after the collector: watched from its exec, its per-call MCP server from its fork', async () => {
    const { collector, grpcPort, dataDir } = await Collector.startDefault();
    try {
      await sensorUp(collector);
      const out = await finished(startAgent(grpcPort, {}, true));
      const tree = await chainOf(collector, dataDir, out.runs[0]!.traceId);
      const { open } = assertMcpChain(tree, out, /mcp_server\.py/);
      const outline = `\n${tree.outline()}`;
      expect(tree.attr(open, 'aibom.monitor.coverage'), outline).toBe('complete');
      expect(kernelResourceOf(tree, out.pid), outline).toMatchObject({ 'aibom.monitor.reason': 'env_marker', 'aibom.monitor.env_marker': 'OPENAI_*', 'aibom.monitor.coverage': 'complete' });
      // Its resource names no host either; the agent's spans get this host's id, as the kernel spans under them have.
      const llm = tree.where((_, a) => a['aibom.span.kind'] === 'llm')[0]!;
      expect(tree.attr(llm, 'host.id'), outline).toBe(readMachineId());
      expect(tree.attr(open, 'host.id'), outline).toBe(readMachineId());
      console.log(`Python agent started after the collector, first run's kernel spans: ${tree.kernel().length}`);
    } finally {
      await collector.stop();
    }
  }, 180_000);

  test('an agent already running when the collector starts: watched from start-up with its existing MCP server, partial', async () => {
    // The agent reads its exporter endpoint at start: the collector started later listens there.
    const agentGrpcPort = await freePort();
    const agentProc = startAgent(agentGrpcPort, { AGENT_WAIT_STDIN: '1' });
    let collector: Collector | undefined;
    try {
      await waitFor(`the agent's MCP server to start\n${agentProc.tail()}`, () => (agentProc.stdout.includes('WAITING') ? true : agentProc.running ? undefined : false), 60_000, 100);
      expect(agentProc.running, agentProc.tail()).toBe(true);
      const started = await Collector.startDefault({ AIBOM_OTLP_GRPC_ENDPOINT: `127.0.0.1:${agentGrpcPort}` });
      collector = started.collector;
      await sensorUp(collector);
      agentProc.child.stdin!.end('go\n');
      const out = await finished(agentProc);
      const tree = await chainOf(collector, started.dataDir, out.runs[0]!.traceId);
      const { open, proc } = assertMcpChain(tree, out);
      const outline = `\n${tree.outline()}`;
      expect(tree.attr(open, 'aibom.monitor.coverage'), outline).toBe('partial');
      // The MCP server's process span itself says so (its own attributes, not only its resource).
      expect(plainAttributes(proc.attributes)['aibom.monitor.coverage'], outline).toBe('partial');
      expect(tree.attr(open, 'aibom.monitor.partial_reason'), outline).toBe('started_before_sensor');
      expect(tree.attr(open, 'aibom.monitor.reason'), outline).toBe('inherited');
      const agent = kernelResourceOf(tree, out.pid);
      expect(agent, outline).toMatchObject({ 'aibom.monitor.reason': 'env_marker', 'aibom.monitor.coverage': 'partial', 'aibom.monitor.partial_reason': 'started_before_sensor' });
      // The profile built from it is partial, with why: the agent and the MCP server it had already started.
      const bom = await bomEntities(collector);
      expect(propOf(bom.agent, 'aibom-collector:partial_coverage'), JSON.stringify(bom.agent)).toBe('started_before_sensor');
      expect(propOf(bom.mcp, 'aibom-collector:partial_coverage'), JSON.stringify(bom.mcp)).toBe('started_before_sensor');
      console.log(`agent started before the collector, first run's trace:${outline}`);
    } finally {
      agentProc.child.kill();
      await collector?.stop();
    }
  }, 180_000);
});
