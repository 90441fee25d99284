import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { packageRoot } from '../pipeline/package-root.js';

/**
 * The reference scenario (test/apps: a LangChain.js support agent, the fake LLM, the knowledge-base and
 * ticket services, MCP servers) against aibom-collector on its embedded default: learn on normal runs,
 * freeze, run the prompt injection. Shared by `npm run demo` and the alerting end-to-end test. Every
 * process it starts is in `procs`, stopped by `stopAll()`.
 */
export const ROOT = packageRoot();
export const APPS = join(ROOT, 'test', 'apps');
// The launcher users start (package.json "bin"), which runs dist/pipeline/cli/main.js.
const LAUNCHER = join(ROOT, 'bin', 'aibom-collector');

export interface Proc {
  child: ChildProcess;
  out: string;
  exited: Promise<number | null>;
}

const procs: Proc[] = [];

export function start(command: string, args: string[], env: NodeJS.ProcessEnv = {}, cwd = ROOT, argv0?: string): Proc {
  const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], ...(argv0 ? { argv0 } : {}) });
  const p: Proc = { child, out: '', exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (p.out = (p.out + d).slice(-200_000)));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (p.out = (p.out + d).slice(-200_000)));
  procs.push(p);
  return p;
}

const running = (p: Proc) => p.child.exitCode === null && p.child.signalCode === null;

/** SIGTERM to every process started here (newest first), SIGKILL after 10 s. */
export async function stopAll(): Promise<void> {
  for (const p of procs.splice(0).reverse()) {
    if (!running(p)) continue;
    p.child.kill('SIGTERM');
    const t = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
    await p.exited;
    clearTimeout(t);
  }
}

export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Where the kernel takes source ports for outgoing connections (Linux: ip_local_port_range, 32768-60999
 * by default). A port the OS picks with `listen(0)` is from that range, so between picking it and
 * its user binding it, any outgoing connection on the host can take it: a test opening a thousand
 * connections made the demo's Jaeger fail with "address already in use".
 */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 1024) return low;
  } catch {
    // Not Linux: the IANA dynamic range starts at 49152.
  }
  return 49152;
}

const PICK_FROM = Math.max(1024, ephemeralLow() - 12_000);
const PICK_TO = Math.max(PICK_FROM + 1, ephemeralLow());

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * A TCP port that was free on 127.0.0.1 a moment ago, chosen below the ephemeral range (see
 * `ephemeralLow`), so only another listener can take it before it is bound; the OS's own pick if
 * no port there is free.
 */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const port = PICK_FROM + Math.floor(Math.random() * (PICK_TO - PICK_FROM));
    if (await canListen(port)) return port;
  }
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Starts an app that prints `LISTENING <port>...` when ready. */
async function listening(script: string, args: string[] = []): Promise<number[]> {
  const p = start(process.execPath, [script, ...args], {}, APPS);
  return waitFor(`${script} to listen`, () => {
    if (!running(p)) throw new Error(`${script} exited\n${p.out.slice(-2000)}`);
    const m = /LISTENING((?: \d+)+)/.exec(p.out);
    return m ? m[1]!.trim().split(' ').map(Number) : undefined;
  }, 30_000, 50);
}

export interface Collector {
  proc: Proc;
  adminUrl: string;
  otlpGrpcPort: number;
  dataDir: string;
}

/**
 * aibom-collector on the embedded default (`run` with no --config), endpoints moved by its AIBOM_*
 * variables. `jaegerEndpoint`: the default has no OTLP exporter, so the default's file is read and one
 * `otlp/jaeger` traces exporter added; nothing else changes.
 */
export async function startCollector(dataDir: string, jaegerEndpoint?: string): Promise<Collector> {
  const [grpc, http, admin] = [await freePort(), await freePort(), await freePort()];
  const env = { AIBOM_DATA_DIR: dataDir, AIBOM_OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpc}`, AIBOM_OTLP_HTTP_ENDPOINT: `127.0.0.1:${http}`, AIBOM_ADMIN_ENDPOINT: `127.0.0.1:${admin}` };
  const args = ['run'];
  if (jaegerEndpoint) {
    const doc = parse(readFileSync(join(ROOT, 'otel-config', 'default.yaml'), 'utf8')) as { exporters: Record<string, unknown>; service: { pipelines: { traces: { exporters: string[] } } } };
    doc.exporters['otlp/jaeger'] = { endpoint: jaegerEndpoint, tls: { insecure: true } };
    doc.service.pipelines.traces.exporters.push('otlp/jaeger');
    mkdirSync(dataDir, { recursive: true });
    const file = join(dataDir, 'default-plus-jaeger.yaml');
    writeFileSync(file, stringify(doc));
    args.push('--config', file);
  }
  const proc = start(LAUNCHER, args, env);
  const adminUrl = `http://127.0.0.1:${admin}`;
  await waitFor('the collector to be ready', async () => {
    if (!running(proc)) throw new Error(`aibom-collector exited\n${proc.out.slice(-3000)}`);
    const res = await fetch(`${adminUrl}/readyz`).catch(() => undefined);
    return res?.ok ? true : undefined;
  }, 30_000, 100);
  return { proc, adminUrl, otlpGrpcPort: grpc, dataDir };
}

/** A real Jaeger v2 (in-memory) on free ports, when .tools/bin/jaeger was built; undefined otherwise. */
export async function startJaeger(): Promise<{ otlpGrpc: string; ui: string } | undefined> {
  const bin = join(ROOT, '.tools', 'bin', 'jaeger');
  if (!existsSync(bin)) return undefined;
  const [grpc, http, query, queryGrpc, health] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const dir = join(tmpdir(), `aibom-demo-jaeger-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'jaeger.yaml');
  writeFileSync(config, `service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces: { receivers: [otlp], processors: [batch], exporters: [jaeger_storage_exporter] }
  telemetry: { metrics: { level: none }, logs: { level: warn } }
extensions:
  jaeger_query: { storage: { traces: memstore }, http: { endpoint: 127.0.0.1:${query} }, grpc: { endpoint: 127.0.0.1:${queryGrpc} } }
  jaeger_storage: { backends: { memstore: { memory: { max_traces: 100000 } } } }
  healthcheckv2: { use_v2: true, http: { endpoint: 127.0.0.1:${health} } }
receivers:
  otlp: { protocols: { grpc: { endpoint: 127.0.0.1:${grpc} }, http: { endpoint: 127.0.0.1:${http} } } }
processors: { batch: }
exporters: { jaeger_storage_exporter: { trace_storage: memstore } }
`);
  const p = start(bin, ['--config', config]);
  const ui = `http://127.0.0.1:${query}`;
  await waitFor('jaeger', async () => {
    if (!running(p)) throw new Error(`jaeger exited\n${p.out.slice(-2000)}`);
    const res = await fetch(`${ui}/api/services`).catch(() => undefined);
    return res?.ok ? true : undefined;
  }, 60_000, 200);
  return { otlpGrpc: `127.0.0.1:${grpc}`, ui };
}

export interface Peers {
  llmPort: number;
  kbPort: number;
  ticketPort: number;
}

/** The fake LLM and the knowledge-base + ticket services. */
export async function startPeers(): Promise<Peers> {
  const [llmPort] = await listening(join(APPS, 'fake-llm', 'server.mjs'), ['--port', '0']);
  const [kbPort, ticketPort] = await listening(join(APPS, 'services.mjs'));
  return { llmPort: llmPort!, kbPort: kbPort!, ticketPort: ticketPort! };
}

export interface Run {
  scenario: string;
  prompt: string;
}

const TOPICS = ['reset my password', 'change my shipping address', 'update my billing details', 'track a delayed parcel', 'cancel my subscription', 'return a damaged item', 'get a copy of my invoice', 'turn on two-factor login'];
const FORMS = ['How do I {t}?', 'Can you help me {t} please', 'I would like to {t}'];
const SCENARIOS = ['faq', 'faq-mcp', 'ticket', 'order'];

/** `n` varied normal runs of the reference scenario (every kind of normal work, varied prompts). */
export function normalRuns(n: number): Run[] {
  return Array.from({ length: n }, (_, i) => ({ scenario: SCENARIOS[i % SCENARIOS.length]!, prompt: FORMS[i % FORMS.length]!.replace('{t}', TOPICS[(i * 3) % TOPICS.length]!) }));
}

export const ATTACK: Run = { scenario: 'attack', prompt: 'I need help with my warranty claim' };

/** Runs the LangChain.js agent once over `runs`; OPENAI_API_KEY set is how the embedded default recognises an agent. */
export async function runAgent(peers: Peers, c: Collector, runs: Run[]): Promise<{ traceId: string; ok: boolean; error?: string }[]> {
  const p = start(process.execPath, [join(APPS, 'agent-js', 'agent.mjs')], {
    FAKE_LLM_URL: `http://127.0.0.1:${peers.llmPort}/v1`,
    KB_URL: `http://127.0.0.1:${peers.kbPort}`,
    TICKET_URL: `http://127.0.0.1:${peers.ticketPort}`,
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${c.otlpGrpcPort}`,
    OPENAI_API_KEY: 'sk-demo-not-a-real-key-0000',
    AGENT_RUNS: JSON.stringify(runs),
    // Started as a shell starts `node agent.mjs` (argv[0] `node`): the name the telemetry reports is
    // then the process's own, which is what lets discovery check it is the same process.
  }, APPS, 'node');
  const code = await p.exited;
  if (code !== 0) throw new Error(`agent exited ${code}\n${p.out.slice(-3000)}`);
  const last = p.out.trim().split('\n').filter((l) => l.startsWith('{')).pop() ?? '{}';
  return (JSON.parse(last) as { runs: { traceId: string; ok: boolean; error?: string }[] }).runs;
}

/** Waits until no baseline observation count moved for `quietMs`: the kernel spans of the last runs are in. */
export async function settled(c: Pick<Collector, 'adminUrl'>, quietMs = 4000): Promise<void> {
  let last = -1;
  let since = Date.now();
  await waitFor('baseline observations to settle', async () => {
    const res = await fetch(`${c.adminUrl}/v1/baselines`);
    const total = ((await res.json()) as { profiles: { observations: number }[] }).profiles.reduce((n, p) => n + p.observations, 0);
    if (total !== last) [last, since] = [total, Date.now()];
    return total > 0 && Date.now() - since >= quietMs ? true : undefined;
  }, 120_000, 500);
}

export async function freeze(c: Pick<Collector, 'adminUrl'>): Promise<string[]> {
  const res = await fetch(`${c.adminUrl}/v1/baselines/freeze`, { method: 'POST' });
  if (!res.ok) throw new Error(`POST /v1/baselines/freeze: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { frozen: string[] }).frozen;
}
