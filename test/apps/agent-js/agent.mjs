#!/usr/bin/env node
// LangChain.js customer-support agent (createAgent + ChatOpenAI at the fake LLM), instrumented like
// users do (see otel.mjs). Tools: search_kb (kb-service over HTTP), http_post (ticket-api over HTTP),
// and MCP tools over stdio from @modelcontextprotocol/server-filesystem (data dir) and our
// mcp-server/server.mjs (lookup_order, system_info), via @langchain/mcp-adapters.
//
// Usage: node agent-js/agent.mjs [--scenario S --prompt P]... | [--runs JSON]
//   Runs are pairs (--scenario, --prompt) in order, or a JSON array [{scenario, prompt}] via --runs
//   or env AGENT_RUNS. Default: one "faq" run. The scenario name goes into the system prompt as
//   `[scenario:S]`, which the fake LLM uses to pick its script.
// Env: FAKE_LLM_URL (e.g. http://127.0.0.1:PORT/v1; required), KB_URL, TICKET_URL (required),
//      AGENT_TOKEN_FILE (service-account token, default ../identity/support-agent.token),
//      MCP_DATA_DIR (default ../data), AGENT_MCP=all|filesystem|support|none (default all),
//      AGENT_STREAMING=1 (ChatOpenAI streaming), MCP_SERVER_LOG (passed to our MCP server),
//      AGENT_WAIT_STDIN=1 (print `WAITING` once the MCP servers run, start the runs at a stdin line),
//      plus the OTEL_* variables of otel.mjs.
// Output (stdout, one JSON line): {framework, pid, serviceName, tokenFile, runs:[{scenario, prompt,
//   traceId, spanId, ok, answer, toolCalls:[{name,args}], error?}], mcpChildren:[{pid, cmdline}],
//   export:{ok, failed, errors}}. Exit 1 if a run failed.
import { exportStats, sdk } from './otel.mjs';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { trace, SpanStatusCode, SpanKind } from '@opentelemetry/api';
import { createAgent, tool } from 'langchain';
import { ChatOpenAI } from '@langchain/openai';
import { MultiServerMCPClient } from '@langchain/mcp-adapters';
import { z } from 'zod';

const here = path.dirname(fileURLToPath(import.meta.url));
const appsDir = path.resolve(here, '..');

function parseRuns(argv) {
  const runs = [];
  let json = process.env.AGENT_RUNS;
  let cur = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--runs') json = argv[++i];
    else if (a === '--scenario') { if (cur.scenario) { runs.push(cur); cur = {}; } cur.scenario = argv[++i]; }
    else if (a === '--prompt') { cur.prompt = argv[++i]; if (cur.scenario) { runs.push(cur); cur = {}; } }
  }
  if (cur.scenario || cur.prompt) runs.push(cur);
  if (json) runs.push(...JSON.parse(json));
  if (runs.length === 0) runs.push({ scenario: 'faq' });
  return runs.map((r) => ({ scenario: r.scenario ?? 'faq', prompt: r.prompt ?? 'How do I reset my password?' }));
}

function need(name) {
  const v = process.env[name];
  if (!v) { console.error(`agent: env ${name} is required`); process.exit(2); }
  return v.replace(/\/$/, '');
}

const runs = parseRuns(process.argv.slice(2));
const llmUrl = need('FAKE_LLM_URL');
const kbUrl = need('KB_URL');
const ticketUrl = need('TICKET_URL');
const dataDir = path.resolve(process.env.MCP_DATA_DIR ?? path.join(appsDir, 'data'));
const tokenFile = path.resolve(process.env.AGENT_TOKEN_FILE ?? path.join(appsDir, 'identity', 'support-agent.token'));
const token = fs.readFileSync(tokenFile, 'utf8').trim(); // the agent's service-account identity
const authHeaders = { 'content-type': 'application/json', authorization: `Bearer ${token}` };

const searchKb = tool(async ({ query, collection, top_k }) => {
  const res = await fetch(`${kbUrl}/search`, { method: 'POST', headers: authHeaders, body: JSON.stringify({ query, collection, top_k }) });
  return JSON.stringify(await res.json());
}, {
  name: 'search_kb',
  description: 'Search the support knowledge base. Collections: faq (default), policies.',
  schema: z.object({
    query: z.string().describe('search text'),
    collection: z.string().optional().describe('collection name, default faq'),
    top_k: z.number().int().optional().describe('number of documents, default 3'),
  }),
});

const httpPost = tool(async ({ path: p, payload }) => {
  const res = await fetch(`${ticketUrl}${p.startsWith('/') ? p : `/${p}`}`, { method: 'POST', headers: authHeaders, body: JSON.stringify(payload ?? {}) });
  return JSON.stringify({ status: res.status, body: await res.json().catch(() => null) });
}, {
  name: 'http_post',
  description: 'POST a JSON payload to the ticketing API (e.g. path /tickets to open a support ticket).',
  schema: z.object({
    path: z.string().describe('API path, e.g. /tickets'),
    payload: z.record(z.string(), z.any()).describe('JSON body'),
  }),
});

const mcpMode = process.env.AGENT_MCP ?? 'all';
const mcpServers = {};
const childEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' };
if (process.env.MCP_SERVER_LOG) childEnv.MCP_SERVER_LOG = process.env.MCP_SERVER_LOG;
if (process.env.MCP_DIAGNOSTICS) childEnv.MCP_DIAGNOSTICS = process.env.MCP_DIAGNOSTICS;
if (mcpMode === 'all' || mcpMode === 'filesystem') {
  mcpServers.filesystem = {
    transport: 'stdio', command: process.execPath, stderr: 'ignore', env: childEnv,
    args: [path.join(appsDir, 'node_modules', '@modelcontextprotocol', 'server-filesystem', 'dist', 'index.js'), dataDir],
  };
}
if (mcpMode === 'all' || mcpMode === 'support') {
  mcpServers.support = {
    transport: 'stdio', command: process.execPath, stderr: 'ignore', env: childEnv,
    args: [path.join(appsDir, 'mcp-server', 'server.mjs'), dataDir],
  };
}
const mcpClient = Object.keys(mcpServers).length
  ? new MultiServerMCPClient({ mcpServers, prefixToolNameWithServerName: false, throwOnLoadError: true, onConnectionError: 'throw' })
  : null;
const mcpTools = mcpClient ? await mcpClient.getTools() : [];

const model = new ChatOpenAI({
  model: process.env.AGENT_MODEL || 'gpt-4o-mini',
  apiKey: process.env.OPENAI_API_KEY ?? 'sk-fake-test-key',
  configuration: { baseURL: llmUrl },
  streaming: process.env.AGENT_STREAMING === '1',
  maxRetries: 1,
  temperature: 0,
});
if (model.streaming) {
  // In streaming mode LangChain.js estimates token usage with js-tiktoken, which downloads its
  // encoding from the internet (DNS + HTTPS off loopback, retried with backoff when offline). Give
  // the model a local approximate encoder instead so every packet stays on loopback.
  model._encoding = { encode: (text) => new Array(Math.ceil(String(text).length / 4)).fill(0) };
}

const SYSTEM = 'You are the Acme customer-support assistant. Answer using the knowledge base (search_kb), ' +
  'the FAQ file through the filesystem tools, or open a ticket with http_post when the customer asks for a human.';

function listChildren() {
  const out = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid) out.push({ pid: Number(d), cmdline: fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').filter(Boolean) });
    } catch { /* gone */ }
  }
  return out;
}

if (process.env.AGENT_WAIT_STDIN === '1') {
  // An agent already running (its MCP servers too) when something else starts, e.g. the collector.
  process.stdout.write('WAITING\n');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  process.stdin.pause();
}

const tracer = trace.getTracer('support-agent');
const results = [];
for (const run of runs) {
  await tracer.startActiveSpan('agent.run', { kind: SpanKind.INTERNAL, attributes: { 'app.scenario': run.scenario } }, async (span) => {
    const rec = { scenario: run.scenario, prompt: run.prompt, traceId: span.spanContext().traceId, spanId: span.spanContext().spanId, ok: false, answer: null, toolCalls: [] };
    try {
      const agent = createAgent({ model, tools: [searchKb, httpPost, ...mcpTools], systemPrompt: `${SYSTEM} [scenario:${run.scenario}]` });
      const result = await agent.invoke({ messages: [{ role: 'user', content: run.prompt }] }, { recursionLimit: 25 });
      for (const m of result.messages) {
        for (const tc of m.tool_calls ?? []) rec.toolCalls.push({ name: tc.name, args: tc.args });
      }
      const last = result.messages.at(-1);
      rec.answer = typeof last?.content === 'string' ? last.content : JSON.stringify(last?.content);
      rec.ok = true;
    } catch (err) {
      rec.error = String(err?.stack ?? err);
      span.recordException(err);
      span.setStatus({ code: SpanStatusCode.ERROR, message: String(err?.message ?? err) });
    } finally {
      span.end();
    }
    results.push(rec);
  });
}

const mcpChildren = listChildren();
if (mcpClient) await mcpClient.close();
await sdk.shutdown().catch((e) => exportStats.errors.push(`shutdown: ${e?.message ?? e}`));
process.stdout.write(JSON.stringify({
  framework: 'langchain-js', pid: process.pid, serviceName: process.env.OTEL_SERVICE_NAME ?? 'support-agent', tokenFile,
  runs: results, mcpChildren, export: exportStats,
}) + '\n', () => process.exit(results.every((r) => r.ok) ? 0 : 1)); // exit once stdout is drained
