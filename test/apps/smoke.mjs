#!/usr/bin/env node
// End-to-end smoke of the peer apps: starts fake-llm + services (+ an OTLP sink unless
// OTEL_EXPORTER_OTLP_ENDPOINT is set), runs the OTel SDK app, the LangChain.js agent and the Python
// agent (one normal "ticket" run and one "attack" run each), checks what it can, prints span trees.
//   node smoke.mjs [--js-only|--py-only] [--quiet]
// Env: OTEL_EXPORTER_OTLP_ENDPOINT (gRPC; if set, spans go there and span checks are skipped),
//      SMOKE_DIR (where logs go; default test/apps/.smoke).
// Ends with `N passed, N failed`; exit 1 on any failure.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startListening, run } from './lib/procs.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const argv = new Set(process.argv.slice(2));
const quiet = argv.has('--quiet');
const outDir = path.resolve(process.env.SMOKE_DIR ?? path.join(here, '.smoke'));
fs.rmSync(outDir, { recursive: true, force: true });
fs.mkdirSync(outDir, { recursive: true });
const f = (n) => path.join(outDir, n);

let passed = 0;
let failed = 0;
const check = (ok, what) => { if (ok) passed++; else failed++; console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`); };

const procs = [];
async function cleanup() { await Promise.all(procs.map((p) => p.stop())); }
process.on('SIGINT', async () => { await cleanup(); process.exit(130); });

try {
  const llm = await startListening(process.execPath, [path.join(here, 'fake-llm/server.mjs'), '--log', f('llm.jsonl')]);
  procs.push(llm);
  const svc = await startListening(process.execPath, [path.join(here, 'services.mjs'), '--log', f('services.jsonl')]);
  procs.push(svc);
  let endpoint = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  let sinkHttp = null;
  if (!endpoint) {
    const sink = await startListening(process.execPath, [path.join(here, 'lib/otlp-sink.mjs'), '--out', f('otlp.jsonl')]);
    procs.push(sink);
    endpoint = `http://127.0.0.1:${sink.ports[0]}`;
    sinkHttp = `http://127.0.0.1:${sink.ports[1]}`;
  }
  const [kbPort, ticketPort] = svc.ports;
  const env = {
    ...process.env,
    FAKE_LLM_URL: `http://127.0.0.1:${llm.ports[0]}/v1`,
    KB_URL: `http://127.0.0.1:${kbPort}`,
    TICKET_URL: `http://127.0.0.1:${ticketPort}`,
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    MCP_SERVER_LOG: f('mcp.jsonl'),
  };
  console.log(`fake-llm :${llm.ports[0]}  kb-service :${kbPort}  ticket-api :${ticketPort}  otlp ${endpoint}  logs ${outDir}`);

  // 1. OTel SDK app
  const send = await run(process.execPath, [path.join(here, 'otel-sdk-app/send.mjs'), '--endpoint', endpoint], { env });
  fs.writeFileSync(f('send.json'), send.stdout);
  const sent = JSON.parse(send.stdout || '{}');
  check(send.code === 0 && sent.export?.spans?.ok === 7 && sent.export?.logs?.ok === 3, `otel-sdk-app: 7 spans + 3 logs acknowledged (${JSON.stringify(sent.export ?? send.stderr)})`);

  // 2. agents
  const runs = JSON.stringify([
    { scenario: 'ticket', prompt: 'Please let a human call me about my refund' },
    { scenario: 'attack', prompt: 'I have a warranty claim for my blender' },
  ]);
  const agents = [];
  if (!argv.has('--py-only')) agents.push(['langchain-js', process.execPath, [path.join(here, 'agent-js/agent.mjs'), '--runs', runs]]);
  if (!argv.has('--js-only')) agents.push(['langchain-py', path.join(here, 'agent-py/.venv/bin/python'), [path.join(here, 'agent-py/agent.py'), '--runs', runs]]);
  const traceIds = {};
  for (const [name, cmd, args] of agents) {
    const r = await run(cmd, args, { env, timeoutMs: 180000 });
    fs.writeFileSync(f(`${name}.json`), r.stdout);
    fs.writeFileSync(f(`${name}.stderr`), r.stderr);
    let out = {};
    try { out = JSON.parse(r.stdout.trim().split('\n').at(-1)); } catch { /* reported below */ }
    check(r.code === 0 && out.runs?.length === 2 && out.runs.every((x) => x.ok), `${name}: both runs ok (exit ${r.code}${r.code ? `, stderr tail: ${r.stderr.slice(-400)}` : ''})`);
    const attack = out.runs?.find((x) => x.scenario === 'attack');
    check(JSON.stringify(attack?.toolCalls?.map((t) => t.name)) === JSON.stringify(['search_kb', 'search_kb', 'read_text_file', 'http_post']), `${name}: attack tool chain search_kb,search_kb,read_text_file,http_post`);
    traceIds[name] = out.runs?.map((x) => x.traceId) ?? [];
    console.log(`     ${name} pid ${out.pid} traces ${traceIds[name].join(' ')}`);
  }

  // 3. wire checks: LLM requests and tool HTTP requests carry a traceparent of the run's trace
  const llmReqs = fs.readFileSync(f('llm.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const svcReqs = fs.readFileSync(f('services.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  for (const [name, ids] of Object.entries(traceIds)) {
    const inTrace = (tp) => ids.some((id) => tp?.split('-')[1] === id);
    const mine = llmReqs.filter((r) => inTrace(r.traceparent));
    check(mine.length >= 8, `${name}: ${mine.length} LLM requests carried a traceparent of its traces`);
    const tickets = svcReqs.filter((r) => r.path === '/tickets' && inTrace(r.traceparent)).map((r) => r.requestBytes);
    check(tickets.length === 2 && tickets[1] > 20 * tickets[0], `${name}: ticket payload sizes normal=${tickets[0]} attack=${tickets[1]}`);
  }

  // 4. spans at the sink
  if (sinkHttp) {
    await new Promise((r) => setTimeout(r, 500));
    const spans = await (await fetch(`${sinkHttp}/_spans`)).json();
    check(sent.traceIds?.every((id) => spans.some((s) => s.traceId === id)), 'otel-sdk-app: both traces at the sink');
    for (const [name, ids] of Object.entries(traceIds)) {
      for (const id of ids) {
        const n = spans.filter((s) => s.traceId === id).length;
        check(n > 5, `${name}: trace ${id} has ${n} spans at the sink`);
      }
    }
    if (!quiet) {
      const tree = await run(process.execPath, [path.join(here, 'lib/span-tree.mjs'), f('otlp.jsonl'), ...Object.values(traceIds).flat()]);
      console.log(tree.stdout);
    }
  }
  if (fs.existsSync(f('mcp.jsonl')) && !quiet) {
    console.log('MCP calls seen by our MCP servers (meta = params._meta):');
    console.log(fs.readFileSync(f('mcp.jsonl'), 'utf8').trim());
  }
} catch (err) {
  check(false, `smoke aborted: ${err?.stack ?? err}`);
} finally {
  await cleanup();
}
console.log(`smoke: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
