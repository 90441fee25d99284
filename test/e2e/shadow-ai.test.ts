import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { APPS } from '../support/apps.js';
import { Collector } from '../support/collector.js';
import { startDnsResponder, type DnsResponder } from '../support/dns-responder.js';
import { startListening } from '../support/listening.js';
import { logRecordsOf, spansOf } from '../support/otlp-json.js';
import { Proc, waitFor } from '../support/process.js';
import { requireTool } from '../support/tools.js';

/**
 * Shadow AI with the embedded default (`aibom-collector run`, no --config, as root) and nothing named for
 * the processes: an uninstrumented script using the official `openai` SDK (over plain HTTP to a local
 * OpenAI-compatible server, and over TLS to "api.openai.com", resolved through a DNS responder this test
 * runs on 127.x.y.z:53, never the system resolver), a local model server that loads a .gguf file and
 * answers /api/generate, and an ordinary process that must cost no event at all. Only the LLM is fake.
 */
requireTool('AIBOM_SENSOR', 'bpf/.output/aibom-sensor');
if (process.getuid?.() !== 0) throw new Error('the shadow-AI tests need root for the eBPF sensor (CI runs as root)');
const PYTHON = join(APPS, 'agent-py', '.venv', 'bin', 'python');
if (!existsSync(PYTHON)) throw new Error('test/apps/agent-py/.venv is not installed: run test/apps/setup.sh (or .ci/install-tools.sh)');
const SHADOW = join(APPS, 'shadow-ai');
/** Events no span claims become process activity after correlate's window (its default). */
const CORRELATE_WINDOW_MS = 30_000;

type Json = Record<string, unknown>;
const propOf = (c: Json, name: string): string | undefined => ((c.properties ?? []) as { name: string; value: string }[]).find((p) => p.name === `aibom-collector:${name}`)?.value;

/** "api.openai.com" over TLS: a self-signed certificate the client trusts, forwarding to the fake LLM. */
async function startTlsFront(llmPort: number, dir: string): Promise<{ port: number; ca: string; close: () => void }> {
  const key = join(dir, 'key.pem');
  const ca = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=api.openai.com', '-addext', 'subjectAltName=DNS:api.openai.com', '-keyout', key, '-out', ca], { stdio: 'ignore' });
  const server = https.createServer({ key: readFileSync(key), cert: readFileSync(ca) }, (req, res) => {
    const up = http.request({ host: '127.0.0.1', port: llmPort, path: req.url, method: req.method, headers: { ...req.headers, host: `127.0.0.1:${llmPort}` } }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, ca, close: () => server.close() };
}

describe('the embedded default finds AI workloads nobody instrumented or declared', () => {
  let llm: { proc: Proc; ports: number[] };
  let dns: DnsResponder;
  let tls: Awaited<ReturnType<typeof startTlsFront>>;
  let collector: Collector;
  let dataDir: string;

  beforeAll(async () => {
    llm = await startListening(process.execPath, [join(APPS, 'fake-llm', 'server.mjs'), '--port', '0']);
    dns = await startDnsResponder();
    tls = await startTlsFront(llm.ports[0]!, mkdtempSync(join(tmpdir(), 'aibom-shadow-tls-')));
    ({ collector, dataDir } = await Collector.startDefault());
    if ((await collector.metric('aibom_ebpf_sensor_up')) !== 1) throw new Error(`the eBPF sensor is not running under the default config\n${collector.proc.tail(40)}`);
  }, 180_000);

  afterAll(async () => {
    await collector?.stop();
    await llm?.proc.stop();
    dns?.close();
    tls?.close();
  });

  /** A Python script as users run it: its own small environment, nothing about aibom. */
  async function runPython(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ pid: number } & Json> {
    const p = new Proc(PYTHON, [join(SHADOW, script), ...args], { cwd: SHADOW, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } });
    const code = await p.exited;
    if (code !== 0) throw new Error(`${script} exited ${code}\n${p.tail(40)}`);
    return JSON.parse(p.stdout.trim().split('\n').pop()!) as { pid: number } & Json;
  }

  async function bom(): Promise<Json[]> {
    const doc = (await (await fetch(`${collector.adminUrl}/v1/aibom`)).json()) as Json;
    return [...((doc.components ?? []) as Json[]), ...((doc.services ?? []) as Json[])];
  }

  /** The AI-BOM entry of the shadow workload (role) that process `pid` is, once it is there. */
  async function shadowEntry(role: 'client' | 'model_server', pid: number, ready: (c: Json) => boolean): Promise<{ entry: Json; all: Json[] }> {
    let last: Json[] = [];
    try {
      return await waitFor(`a shadow ${role} for pid ${pid} in /v1/aibom`, async () => {
        last = await bom();
        const entry = last.find((c) => propOf(c, 'shadow_ai') === role && (propOf(c, 'process.pid') ?? '').split('\n').includes(String(pid)));
        return entry && ready(entry) ? { entry, all: last } : undefined;
      }, CORRELATE_WINDOW_MS + 30_000, 500);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nAI-BOM:\n${JSON.stringify(last.filter((c) => propOf(c, 'shadow_ai')), null, 1)}\ncollector:\n${collector.proc.tail(30)}`);
    }
  }

  /** The `aibom.finding` record that says the entry appeared (no declared BOM is configured). */
  function finding(name: string): Record<string, unknown> | undefined {
    const file = join(dataDir, 'telemetry.jsonl');
    if (!existsSync(file)) return undefined;
    return logRecordsOf(readFileSync(file, 'utf8')).map((r) => r.record).find((r) => r.eventName === 'aibom.finding' && JSON.stringify(r.attributes).includes(JSON.stringify(name)));
  }

  async function assertClient(pid: number, model: string, endpoint: string, signature: string): Promise<Json> {
    const { entry, all } = await shadowEntry('client', pid, (c) => (propOf(c, 'gen_ai.request.model') ?? '').includes(model));
    const shown = JSON.stringify(entry, null, 1);
    expect(propOf(entry, 'kind'), shown).toBe('agent');
    expect(propOf(entry, 'instrumented'), shown).toBe('false');
    expect(propOf(entry, 'source'), shown).toBe('observed');
    expect(propOf(entry, 'aibom.shadow.signature')?.split('\n'), shown).toContain(signature);
    expect(propOf(entry, 'process.command_args'), shown).toContain('openai_client.py');
    expect(propOf(entry, 'server.address')?.split('\n'), shown).toContain(endpoint.replace(/:\d+$/, ''));
    expect(all.some((c) => c.name === endpoint && propOf(c, 'kind') === 'endpoint'), `endpoint ${endpoint} in the AI-BOM`).toBe(true);
    expect(all.some((c) => c.name === model && propOf(c, 'kind') === 'model'), `model ${model} in the AI-BOM`).toBe(true);
    // Undeclared: nothing is declared, so its first appearance is a finding an alert can fire on.
    const f = await waitFor(`the aibom.finding for ${String(entry.name)}`, () => finding(String(entry.name)), 30_000, 500);
    expect(JSON.stringify(f)).toContain('undeclared');
    expect(JSON.stringify(f)).toContain('new shadow AI client');
    console.log(`shadow client (pid ${pid}) AI-BOM entry:\n${shown}`);
    return entry;
  }

  test('an uninstrumented openai SDK script over plain HTTP to a local OpenAI-compatible server', async () => {
    const llmPort = llm.ports[0]!;
    const out = await runPython('openai_client.py', ['--base-url', `http://127.0.0.1:${llmPort}/v1`, '--model', 'gpt-4o-mini-plain', '--key', 'sk-shadow-plain-0123456789']);
    const entry = await assertClient(out.pid, 'gpt-4o-mini-plain', `127.0.0.1:${llmPort}`, 'inference_api');
    expect(propOf(entry, 'url.path')).toContain('/v1/chat/completions');
  }, 180_000);

  test('the same script over TLS to api.openai.com (its name resolved through a DNS responder on loopback)', async () => {
    const out = await runPython('openai_client.py', ['--base-url', `https://api.openai.com:${tls.port}/v1`, '--model', 'gpt-4o-mini-tls', '--key', 'sk-shadow-tls-0123456789', '--resolver', dns.address, '--ca', tls.ca]);
    expect(dns.queries).toContain('api.openai.com');
    const entry = await assertClient(out.pid, 'gpt-4o-mini-tls', 'api.openai.com', 'provider_dns');
    expect(propOf(entry, 'url.path'), 'the request path from the TLS plaintext').toContain('/v1/chat/completions');
    const all = await bom();
    expect(all.find((c) => c.name === 'gpt-4o-mini-tls' && propOf(c, 'kind') === 'model')?.group).toBe('openai');
  }, 180_000);

  test('with OPENAI_API_KEY in its environment (watched from its exec already): still listed as a shadow client', async () => {
    const out = await runPython('openai_client.py', ['--base-url', `https://api.openai.com:${tls.port}/v1`, '--model', 'gpt-4o-mini-env', '--resolver', dns.address, '--ca', tls.ca], { OPENAI_API_KEY: 'sk-shadow-env-0123456789' });
    await assertClient(out.pid, 'gpt-4o-mini-env', 'api.openai.com', 'provider_dns');
    expect(readFileSync(join(dataDir, 'telemetry.jsonl'), 'utf8')).not.toContain('sk-shadow-env-0123456789');
  }, 180_000);

  test('a local model server that loads a .gguf file and serves /api/generate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aibom-shadow-models-'));
    const model = join(dir, 'tinyllama-q4.gguf');
    execFileSync('sh', ['-c', `printf 'GGUF\\003\\000\\000\\000' > ${model}`]);
    const server = await startListening(PYTHON, [join(SHADOW, 'model_server.py'), '--model', model], { cwd: SHADOW, env: { PATH: process.env.PATH, HOME: process.env.HOME } });
    try {
      const port = server.ports[0]!;
      const res = await fetch(`http://127.0.0.1:${port}/api/generate`, { method: 'POST', body: JSON.stringify({ model: 'tinyllama', prompt: 'hi' }) });
      expect(res.status).toBe(200);
      const pid = server.proc.child.pid!;
      const { entry } = await shadowEntry('model_server', pid, (c) => (propOf(c, 'server.port') ?? '').split('\n').includes(String(port)));
      const shown = JSON.stringify(entry, null, 1);
      expect(propOf(entry, 'kind'), shown).toBe('model');
      expect(entry.name, shown).toBe('tinyllama-q4.gguf');
      expect(propOf(entry, 'aibom.model.artifact'), shown).toBe(model);
      expect(propOf(entry, 'instrumented'), shown).toBe('false');
      expect(propOf(entry, 'aibom.shadow.signature'), shown).toBe('model_artifact');
      const f = await waitFor('the aibom.finding for the model server', () => finding('tinyllama-q4.gguf'), 30_000, 500);
      expect(JSON.stringify(f)).toContain('new shadow AI model server');
      console.log(`shadow model server (pid ${pid}, port ${port}) AI-BOM entry:\n${shown}`);
    } finally {
      await server.proc.stop();
    }
  }, 180_000);

  test('an ordinary process doing DNS and plain HTTP to non-AI names costs no event at all', async () => {
    const before = await collector.metric('aibom_ebpf_kernel_filtered_total', { reason: 'no_signature' });
    const out = await runPython('plain_client.py', ['--resolver', dns.address, '--name', 'intranet.example.test', '--url', `http://127.0.0.1:${llm.ports[0]}`, '--rounds', '20']);
    expect(dns.queries).toContain('intranet.example.test');
    // The sensor's counters: its sends were looked at in the kernel (DNS queries, POST heads) and let go.
    const checked = await waitFor('the no_signature counter to count the ordinary process', async () => {
      const n = (await collector.metric('aibom_ebpf_kernel_filtered_total', { reason: 'no_signature' })) - before;
      return n >= 40 ? n : undefined;
    }, 20_000, 500);
    await new Promise((r) => setTimeout(r, CORRELATE_WINDOW_MS + 3000)); // what it did would be process activity by now
    const text = readFileSync(join(dataDir, 'telemetry.jsonl'), 'utf8');
    const mine = [...logRecordsOf(text).filter((r) => r.resource['process.pid'] === out.pid), ...spansOf(text).filter((s) => s.attributes['process.pid'] === out.pid)];
    expect(mine, `records or spans of the ordinary process ${out.pid}`).toEqual([]);
    expect((await bom()).some((c) => (propOf(c, 'process.pid') ?? '').split('\n').includes(String(out.pid)))).toBe(false);
    console.log(`ordinary process: ${checked} sends checked in the kernel, 0 events`);
  }, 180_000);
});
