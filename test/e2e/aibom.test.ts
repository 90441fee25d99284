import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { agentCommand, APPS, runReferenceAgent } from '../support/apps.js';
import { Collector } from '../support/collector.js';
import { startListening } from '../support/listening.js';
import { freePort } from '../support/ports.js';
import { Proc, waitFor } from '../support/process.js';
import { collectorMain, requireTool } from '../support/tools.js';

/**
 * The runtime AI-BOM of the reference scenario, built from what the real LangChain.js agent, its real
 * MCP server (server-filesystem over stdio) and the real eBPF sensor showed; diffed against what the
 * real cdxgen declared from the same source and against a hand-written declaration.
 */
const sensor = requireTool('AIBOM_SENSOR', 'bpf/.output/aibom-sensor');
const cdxgen = requireTool('CDXGEN_BIN', '.tools/cdxgen/node_modules/.bin/cdxgen');
if (process.getuid?.() !== 0) throw new Error('the AI-BOM end-to-end tests need root for the eBPF sensor (CI runs as root)');
if (!existsSync(join(APPS, 'node_modules'))) throw new Error('test/apps is not installed: run test/apps/setup.sh (or .ci/install-tools.sh)');

type Json = Record<string, any>;

const prop = (x: Json, name: string): string | undefined => (x.properties as { name: string; value: string }[] | undefined)?.find((p) => p.name === name)?.value;

async function validate(bom: Json, version: '1.6' | '1.7'): Promise<unknown> {
  const v = new Validation.JsonStrictValidator(version === '1.6' ? Spec.Version.v1dot6 : Spec.Version.v1dot7);
  return v.validate(JSON.stringify(bom));
}

/** Runs the built CLI to completion. */
async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = new Proc(process.execPath, [collectorMain(), ...args], { env: { ...process.env, ...env } });
  const code = await p.exited;
  return { code, stdout: p.stdout, stderr: p.stderr };
}

describe('runtime AI-BOM of the reference scenario (LangChain.js, MCP server-filesystem, eBPF)', () => {
  let collector: Collector;
  let llm: { proc: Proc; ports: number[] };
  let services: { proc: Proc; ports: number[] };
  let otlpPort: number;
  let stateDir: string;
  let outFile: string;
  let tokenFile: string;
  let run: { traceId: string };

  beforeAll(async () => {
    llm = await startListening(process.execPath, [join(APPS, 'fake-llm', 'server.mjs'), '--port', '0']);
    services = await startListening(process.execPath, [join(APPS, 'services.mjs')]);
    otlpPort = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'aibom-bom-'));
    stateDir = join(dir, 'state');
    outFile = join(dir, 'out.jsonl');
    // The service-account token sits where the sensor is told credentials live.
    tokenFile = join(dir, 'secrets', 'support-agent.token');
    mkdirSync(dirname(tokenFile), { recursive: true });
    writeFileSync(tokenFile, readFileSync(join(APPS, 'identity', 'support-agent.token')));
    collector = await Collector.start(`
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:${otlpPort} }
  ebpf:
    required: true
    sensor: { path: ${sensor} }
    monitor: { comms: [aibom-agent-js, aibom-agent-py] }
    # The reference scenario only: host-wide discovery (test/e2e/shadow-ai.test.ts) would add whatever
    # else this host runs to the BOM the diff below compares.
    shadow_ai: { enabled: false }
    credential_paths: [${dirname(tokenFile)}/]
processors:
  enrich:
  normalize:
  correlate: { settle: 1s, window: 8s }
  aibom:
    directory: ${stateDir}
    flush_interval: 200ms
    report_interval: 1m
    cyclonedx: { path: ${join(dir, 'aibom.cdx.json')} }
  batch: { timeout: 100ms }
exporters:
  file: { path: ${outFile} }
service:
  admin: { endpoint: \${ADMIN} }
  pipelines:
    traces: { receivers: [otlp], processors: [enrich, normalize, correlate, aibom, batch], exporters: [file] }
    logs: { receivers: [otlp, ebpf], processors: [enrich, correlate, aibom, batch], exporters: [file] }
`);
    const out = await runAgent(agentCommand('aibom-agent-js', process.execPath, join(tmpdir(), 'aibom-agent-bin')), [join(APPS, 'agent-js', 'agent.mjs'), '--scenario', 'attack', '--prompt', 'I need help with my warranty claim'], {
      AGENT_MCP: 'filesystem',
      OPENAI_API_KEY: 'sk-test-not-a-real-key-0000',
    });
    run = out.runs[0]!;
  }, 240_000);

  afterAll(async () => {
    await collector?.stop();
    await llm?.proc.stop();
    await services?.proc.stop();
  });

  /** One reference-scenario run of an agent against this suite's model, services and collector. */
  async function runAgent(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ runs: { traceId: string; ok: boolean; error?: string }[] }> {
    const out = await runReferenceAgent<{ runs: { traceId: string; ok: boolean; error?: string }[] }>(command, args, { llm, services, otlpPort }, { AGENT_TOKEN_FILE: tokenFile, ...env });
    if (!out.runs[0]!.ok) throw new Error(out.runs[0]!.error);
    return out;
  }

  async function bom(spec = '1.6'): Promise<Json> {
    const res = await fetch(`${collector.adminUrl}/v1/aibom?spec=${spec}`);
    expect(res.status).toBe(200);
    return (await res.json()) as Json;
  }

  /** Waits until the kernel side (the MCP server's file read) has reached the inventory. */
  async function settledBom(): Promise<Json> {
    let last: Json | undefined;
    try {
      return await waitFor('the MCP server and the data it read in /v1/aibom', async () => {
        last = await bom();
        const services = (last.services ?? []) as Json[];
        const components = (last.components ?? []) as Json[];
        const mcp = services.some((s) => s.group === 'mcp');
        const data = components.some((c) => c.type === 'data' && String(c.name).endsWith('*.csv'));
        const identity = components.some((c) => prop(c, 'aibom-collector:kind') === 'identity' && String(c.name) === tokenFile);
        return mcp && data && identity ? last : undefined;
      }, 60_000, 500);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${JSON.stringify(last, null, 1)?.slice(0, 6000)}\n${collector.proc.tail(30)}`);
    }
  }

  test('lists the model, the agent, every tool, the MCP server and its tools, the endpoints, the data read and the identity; valid CycloneDX 1.6 and 1.7', async () => {
    const b = await settledBom();
    const [llmPort] = llm.ports;
    const [kbPort, ticketPort] = services.ports;
    const components = b.components as Json[];
    const services_ = b.services as Json[];
    const byKind = (k: string) => [...components, ...services_].filter((x) => prop(x, 'aibom-collector:kind') === k);
    const dump = `\n${JSON.stringify(b, null, 1).slice(0, 8000)}`;
    expect(b.metadata.lifecycles, dump).toEqual([{ phase: 'operations' }]);

    const agent = byKind('agent').find((a) => a.name === 'support-agent');
    expect(agent?.type, dump).toBe('application');
    const model = byKind('model').find((m) => m.name === 'gpt-4o-mini');
    expect(model?.type, dump).toBe('machine-learning-model');
    expect(model?.group).toBe('openai');
    expect(model?.modelCard?.modelParameters?.task).toBe('text-generation');

    const tools = byKind('tool');
    expect(tools.map((t) => t.name).sort(), dump).toEqual(expect.arrayContaining(['http_post', 'read_text_file', 'search_kb']));
    const mcp = services_.find((s) => s.group === 'mcp');
    expect(mcp?.name, dump).toBe('@modelcontextprotocol/server-filesystem');
    expect(prop(mcp!, 'cdx:mcp:transport')).toBe('stdio');
    expect(prop(mcp!, 'aibom-collector:process.command_args')).toMatch(/server-filesystem\/dist\/index\.js/);
    const readTool = tools.find((t) => t.name === 'read_text_file')!;
    expect(prop(readTool, 'cdx:mcp:role')).toBe('tool');
    expect(prop(readTool, 'cdx:mcp:serviceRef')).toBe(mcp!['bom-ref']);
    expect(b.dependencies.find((d: Json) => d.ref === mcp!['bom-ref'])?.provides, dump).toContain(readTool['bom-ref']);

    const endpoint = (port: number) => services_.find((s) => prop(s, 'aibom-collector:kind') === 'endpoint' && s.name === `127.0.0.1:${port}`);
    for (const [port, path, tool] of [[kbPort, '/search', 'search_kb'], [ticketPort, '/tickets', 'http_post'], [llmPort, '/v1/chat/completions', undefined]] as const) {
      const ep = endpoint(port!);
      expect(ep?.endpoints, `${port}${dump}`).toEqual(expect.arrayContaining([`http://127.0.0.1:${port}${path}`]));
      expect(ep?.trustZone).toBe('loopback');
      if (tool) expect(b.dependencies.find((d: Json) => d.ref === tools.find((t) => t.name === tool)!['bom-ref'])?.dependsOn, dump).toContain(ep!['bom-ref']);
    }
    // The model's endpoint: the connection under the LLM call.
    expect(b.dependencies.find((d: Json) => d.ref === model!['bom-ref'])?.dependsOn).toContain(endpoint(llmPort!)!['bom-ref']);

    const data = byKind('data_source');
    expect(data.map((d) => d.name), dump).toContain(`${join(APPS, 'data')}/*.csv`);
    expect(b.dependencies.find((d: Json) => d.ref === readTool['bom-ref'])?.dependsOn).toContain(data.find((d) => d.name.endsWith('*.csv'))!['bom-ref']);
    const identities = byKind('identity').map((i) => i.name);
    expect(identities, dump).toEqual(expect.arrayContaining([tokenFile, 'env:OPENAI_API_KEY']));
    expect(JSON.stringify(b)).not.toContain('sk-test-not-a-real-key');

    // Evidence: the attack's trace id on what it touched.
    expect(prop(readTool, 'aibom-collector:evidence')).toContain(run.traceId);

    const errors16 = await validate(b, '1.6');
    expect(errors16, JSON.stringify(errors16, null, 1)).toBeNull();
    const b17 = await bom('1.7');
    expect(b17.specVersion).toBe('1.7');
    const errors17 = await validate(b17, '1.7');
    expect(errors17, JSON.stringify(errors17, null, 1)).toBeNull();
    const size = JSON.stringify(b).length;
    console.log(`AI-BOM of the reference scenario: ${components.length} components, ${services_.length} services, ${b.dependencies.length} dependency entries, ${size} bytes (compact JSON)`);
    const show = await cli(['aibom', 'show', '--url', `${collector.adminUrl}/v1/aibom`]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/agent support-agent[\s\S]*tool read_text_file[\s\S]*mcp_server @modelcontextprotocol\/server-filesystem/);
    console.log(show.stdout);
  }, 120_000);

  test('aibom diff against the real cdxgen (-t ai -t mcp) run on the agent source: the MCP server is undeclared, its guesses show as unobserved', async () => {
    await settledBom();
    const src = mkdtempSync(join(tmpdir(), 'aibom-cdxgen-src-'));
    // The application source as a developer would scan it (the dependencies are not the app).
    for (const d of ['agent-js', 'mcp-server']) cpSync(join(APPS, d), join(src, d), { recursive: true });
    cpSync(join(APPS, 'package.json'), join(src, 'package.json'));
    const declared = join(src, 'bom.json');
    const gen = new Proc(cdxgen, ['-t', 'ai', '-t', 'mcp', '--no-install-deps', '-o', declared, src], { env: { ...process.env, CDXGEN_NO_BANNER: 'true', FETCH_LICENSE: 'false' } });
    expect(await gen.exited, gen.tail(40)).toBe(0);
    const doc = JSON.parse(readFileSync(declared, 'utf8')) as Json;
    expect(doc.specVersion).toBe('1.7');
    const diff = await cli(['aibom', 'diff', '--declared', declared, '--observed', `${collector.adminUrl}/v1/aibom`, '--format', 'json']);
    expect(diff.code, diff.stderr).toBe(1);
    const { findings } = JSON.parse(diff.stdout) as { findings: { type: string; kind: string; name: string; evidence: string[] }[] };
    const has = (type: string, kind: string, name: string) => findings.find((f) => f.type === type && f.kind === kind && f.name === name);
    console.log(`cdxgen declared: ${(doc.components ?? []).map((c: Json) => `${c.type} ${c.name}`).join('; ')} | services: ${(doc.services ?? []).map((s: Json) => s.name).join('; ')}`);
    console.log(`diff vs cdxgen:\n${findings.map((f) => `${f.type} ${f.kind} ${f.name}`).join('\n')}`);
    // What cdxgen left out: the MCP server the agent really ran (it lives in node_modules) and the tools
    // defined in the agent itself; each with the trace that showed it.
    const server = has('undeclared', 'mcp_server', '@modelcontextprotocol/server-filesystem');
    expect(server, diff.stdout).toBeDefined();
    expect(server!.evidence).toContain(run.traceId);
    for (const t of ['search_kb', 'http_post', 'read_text_file']) expect(has('undeclared', 'tool', t), diff.stdout).toBeDefined();
    // What it guessed wrong: the model, which the agent names from a variable (`AGENT_MODEL || 'gpt-4o-mini'`):
    // cdxgen declares the expression, the run shows the model that answered.
    expect(has('undeclared', 'model', 'gpt-4o-mini'), diff.stdout).toBeDefined();
    expect(has('unobserved', 'model', 'process.env.AGENT_MODEL'), diff.stdout).toBeDefined();
    // MCP "servers" named after the files that import the client SDK, and the MCP server of our own
    // source that this run never started.
    expect(has('unobserved', 'mcp_server', 'agent-mcp-server'), diff.stdout).toBeDefined();
    expect(has('unobserved', 'mcp_server', 'aibom-test-mcp'), diff.stdout).toBeDefined();
    const table = await cli(['aibom', 'diff', '--declared', declared, '--observed', `${collector.adminUrl}/v1/aibom`]);
    expect(table.code).toBe(1);
    expect(table.stdout).toMatch(/undeclared\s+mcp_server\s+@modelcontextprotocol\/server-filesystem/);
  }, 120_000);

  test('aibom diff against a hand-written YAML that omits the MCP server and guesses the model wrong', async () => {
    const b = await settledBom();
    const names = (kind: string) => [...b.components, ...b.services].filter((x: Json) => prop(x, 'aibom-collector:kind') === kind).map((x: Json) => x.name as string);
    const [llmPort] = llm.ports;
    const [kbPort, ticketPort] = services.ports;
    // Everything the run showed except the MCP server, with the model named as the team believed it.
    const yaml = [
      'aibom: 1',
      'agents: [support-agent]',
      'models: [{ name: gpt-4o, provider: openai }]',
      `tools: [search_kb, http_post, read_text_file]`,
      `endpoints: [http://127.0.0.1:${llmPort}/v1, http://127.0.0.1:${kbPort}/search, http://127.0.0.1:${ticketPort}/tickets${names('endpoint').filter((n) => ![llmPort, kbPort, ticketPort].some((p) => n.endsWith(`:${p}`))).map((n) => `, ${n}`).join('')}]`,
      `data_sources: ["${join(APPS, 'data')}/*"]`,
      `identities: [${names('identity').join(', ')}]`,
    ].join('\n');
    const file = join(mkdtempSync(join(tmpdir(), 'aibom-declared-')), 'declared.yaml');
    writeFileSync(file, `${yaml}\n`);
    const diff = await cli(['aibom', 'diff', '--declared', file, '--observed', `${collector.adminUrl}/v1/aibom`, '--format', 'json']);
    expect(diff.code, diff.stderr).toBe(1);
    const { findings } = JSON.parse(diff.stdout) as { findings: { type: string; kind: string; name: string; detail?: string; evidence: string[] }[] };
    expect(findings.map((f) => `${f.type} ${f.kind} ${f.name}`).sort(), `${yaml}\n${diff.stdout}`).toEqual([
      'changed model gpt-4o-mini',
      'undeclared mcp_server @modelcontextprotocol/server-filesystem',
    ]);
    expect(findings.find((f) => f.kind === 'model')!.detail).toBe('declared gpt-4o, ran gpt-4o-mini');
    for (const f of findings) expect(f.evidence).toContain(run.traceId);
  }, 120_000);

  test('entity events reach the exporter with the entity-events spec attribute names', async () => {
    await settledBom();
    const records = readFileSync(outFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .flatMap((l) => ((JSON.parse(l) as Json).resourceLogs ?? []) as Json[])
      .flatMap((rl) => rl.scopeLogs.flatMap((sl: Json) => sl.logRecords as Json[]));
    const states = records.filter((r) => r.eventName === 'entity.state');
    const attrs = (r: Json) => Object.fromEntries((r.attributes as Json[]).map((a) => [a.key, a.value]));
    const mcp = states.map(attrs).find((a) => a['entity.type']?.stringValue === 'aibom.mcp_server');
    expect(mcp, `${states.length} entity.state records`).toBeDefined();
    expect(mcp!['entity.id'].kvlistValue.values.length).toBeGreaterThan(0);
    expect(mcp!['entity.description'].kvlistValue).toBeDefined();
    expect(Number(mcp!['entity.report.interval'].intValue)).toBe(60);
    const tool = states.map(attrs).find((a) => a['entity.type']?.stringValue === 'aibom.tool' && a['entity.id'].kvlistValue.values.some((v: Json) => v.value.stringValue === 'read_text_file') && a['entity.relationships']);
    expect(tool, 'read_text_file with its relationships').toBeDefined();
    const rels = tool!['entity.relationships'].arrayValue.values.map((v: Json) => Object.fromEntries(v.kvlistValue.values.map((kv: Json) => [kv.key, kv.value])));
    expect(rels.some((r: Json) => r['relationship.type'].stringValue === 'implemented_by' && r['entity.type'].stringValue === 'aibom.mcp_server')).toBe(true);
    // Events go out when something appears or changes, not per span.
    const spans = readFileSync(outFile, 'utf8').split('"spanId"').length;
    expect(states.length).toBeLessThan(spans);
  });

  test('a restart keeps the inventory; a corrupt inventory stops start-up naming the file', async () => {
    const before = await settledBom();
    const ids = (b: Json) => [...b.components, ...b.services].map((x: Json) => x['bom-ref'] as string).sort();
    collector = await collector.restart();
    const after = await bom();
    expect(ids(after)).toEqual(ids(before));

    const bad = mkdtempSync(join(tmpdir(), 'aibom-corrupt-'));
    writeFileSync(join(bad, 'inventory.json'), '{"format":"aibom-collector/inventory","version":1,"entities":[{"id":');
    const config = readFileSync(collector.configPath!, 'utf8').replace(`directory: ${stateDir}`, `directory: ${bad}`).replace(/admin: \{ endpoint: [^}]+\}/, `admin: { endpoint: 127.0.0.1:${await freePort()} }`).replace(/grpc: \{ endpoint: [^}]+\}/, `grpc: { endpoint: 127.0.0.1:${await freePort()} }`);
    const cfg = join(bad, 'config.yaml');
    writeFileSync(cfg, config);
    const r = await cli(['run', '--config', cfg]);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain(join(bad, 'inventory.json'));
    expect(r.stderr).toContain('not JSON');
    rmSync(bad, { recursive: true, force: true });
  }, 120_000);

  // Last: it adds a second agent to the inventory the tests above compare exactly.
  test('LangChain Python (OpenLLMetry) with a Python MCP SDK server started per tool call', async () => {
    const venvBin = join(APPS, 'agent-py', '.venv', 'bin');
    const command = agentCommand('aibom-agent-py', realpathSync(join(venvBin, 'python')), venvBin);
    const out = await runAgent(command, [join(APPS, 'agent-py', 'agent.py'), '--runs', JSON.stringify([{ scenario: 'attack', prompt: 'I need help with my warranty claim' }])], {
      AGENT_MCP: 'python',
      OTEL_EXPERIMENTAL_RESOURCE_DETECTORS: 'process',
    });
    let last: Json | undefined;
    const b = await waitFor('the Python agent, its MCP server and the file it read', async () => {
      last = await bom();
      const all = [...last.components, ...last.services] as Json[];
      const agent = all.find((x) => prop(x, 'aibom-collector:kind') === 'agent' && x.name === 'support-agent-py');
      const server = all.find((x) => prop(x, 'aibom-collector:kind') === 'mcp_server' && x.name === 'mcp_server.py');
      const data = all.find((x) => prop(x, 'aibom-collector:kind') === 'data_source' && String(prop(x, 'aibom-collector:evidence')).includes(out.runs[0]!.traceId));
      // The token is read at start-up, before any span: it arrives as process activity after correlate's window.
      const identity = all.find((x) => prop(x, 'aibom-collector:kind') === 'identity' && x.name === tokenFile);
      const runsAs = agent && identity && (last.dependencies as Json[]).find((d) => d.ref === agent['bom-ref'])?.dependsOn.includes(identity['bom-ref']);
      return agent && server && data && runsAs ? last : undefined;
    }, 60_000, 500).catch((err: Error) => {
      throw new Error(`${err.message}\n${JSON.stringify(last, null, 1)?.slice(0, 6000)}`);
    });
    const all = [...b.components, ...b.services] as Json[];
    const agent = all.find((x) => x.name === 'support-agent-py')!;
    const uses = (b.dependencies as Json[]).find((d) => d.ref === agent['bom-ref'])!.dependsOn as string[];
    const used = all.filter((x) => uses.includes(x['bom-ref'])).map((x) => `${prop(x, 'aibom-collector:kind')} ${x.name}`);
    expect(used).toEqual(expect.arrayContaining(['model gpt-4o-mini', 'tool search_kb', 'tool http_post', `identity ${tokenFile}`]));
    const server = all.find((x) => x.name === 'mcp_server.py')!;
    const provided = ((b.dependencies as Json[]).find((d) => d.ref === server['bom-ref'])?.provides ?? []) as string[];
    expect(all.filter((x) => provided.includes(x['bom-ref'])).map((x) => x.name), JSON.stringify(b.dependencies)).toContain('read_text_file');
    // The server's own script and the directories the interpreter scans are code, not data; a
    // dual-stack peer (::ffff:127.0.0.1) is the IPv4 endpoint.
    const data = all.filter((x) => prop(x, 'aibom-collector:kind') === 'data_source').map((x) => x.name as string);
    expect(data, JSON.stringify(data)).toEqual([`${join(APPS, 'data')}/*.csv`]);
    expect(all.filter((x) => String(x.name).startsWith('::ffff:')).map((x) => x.name)).toEqual([]);
    expect(await validate(b, '1.6')).toBeNull();
    expect(await validate(await bom('1.7'), '1.7')).toBeNull();
  }, 180_000);
});

describe('the embedded default builds the inventory with nothing named for the agent', () => {
  test('aibom-collector run (no --config): /v1/aibom lists the agent, its model and tools', async () => {
    const llm = await startListening(process.execPath, [join(APPS, 'fake-llm', 'server.mjs'), '--port', '0']);
    const svc = await startListening(process.execPath, [join(APPS, 'services.mjs')]);
    const data = mkdtempSync(join(tmpdir(), 'aibom-default-'));
    const [grpc, http, admin] = [await freePort(), await freePort(), await freePort()];
    const proc = new Proc(process.execPath, [collectorMain(), 'run'], {
      env: { ...process.env, AIBOM_DATA_DIR: data, AIBOM_OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpc}`, AIBOM_OTLP_HTTP_ENDPOINT: `127.0.0.1:${http}`, AIBOM_ADMIN_ENDPOINT: `127.0.0.1:${admin}` },
    });
    try {
      await waitFor('collector readiness', async () => (!proc.running ? Promise.reject(new Error(`collector exited\n${proc.tail()}`)) : (await fetch(`http://127.0.0.1:${admin}/readyz`).catch(() => undefined))?.ok ? true : undefined), 30_000, 100);
      const agent = new Proc(process.execPath, [join(APPS, 'agent-js', 'agent.mjs'), '--scenario', 'ticket', '--prompt', 'Please let a human call me'], {
        cwd: APPS,
        env: { ...process.env, FAKE_LLM_URL: `http://127.0.0.1:${llm.ports[0]}/v1`, KB_URL: `http://127.0.0.1:${svc.ports[0]}`, TICKET_URL: `http://127.0.0.1:${svc.ports[1]}`, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${grpc}`, AGENT_MCP: 'none' },
      });
      expect(await agent.exited, agent.tail()).toBe(0);
      const b = await waitFor('the agent, its model and tools in /v1/aibom', async () => {
        const doc = (await (await fetch(`http://127.0.0.1:${admin}/v1/aibom`)).json()) as Json;
        const names = (doc.components as Json[]).map((c) => `${prop(c, 'aibom-collector:kind')} ${c.name}`);
        return ['agent support-agent', 'model gpt-4o-mini', 'tool search_kb', 'tool http_post'].every((n) => names.includes(n)) ? doc : undefined;
      }, 30_000, 300);
      expect(await validate(b, '1.6')).toBeNull();
      // The BOM file and the inventory land in the data directory.
      await waitFor('aibom files in AIBOM_DATA_DIR', () => (existsSync(join(data, 'aibom', 'inventory.json')) && existsSync(join(data, 'aibom', 'aibom.cdx.json')) ? true : undefined), 10_000, 200);
      // `aibom show` finds the collector through AIBOM_ADMIN_ENDPOINT, like the collector itself.
      const show = await cli(['aibom', 'show'], { AIBOM_ADMIN_ENDPOINT: `127.0.0.1:${admin}` });
      expect(show.code, show.stderr).toBe(0);
      expect(show.stdout).toContain('agent support-agent');
    } finally {
      await proc.stop();
      await llm.proc.stop();
      await svc.proc.stop();
    }
  }, 120_000);
});


