#!/usr/bin/env node
// Fake OpenAI-compatible chat-completions server driven by a script of responses.
// Only the model is fake: clients reach it over real HTTP on loopback.
//
// Script format (JSON):
//   { "default": "faq",
//     "scenarios": {
//       "faq": [ { "tool_calls": [ { "name": "search_kb", "arguments": { "query": "..." } } ] },
//                { "content": "final answer" } ] } }
// Each entry is one assistant turn: { content?, tool_calls?, delay_ms?, error?: {status, message} }.
//
// Scenario selection for a request (first that matches):
//   1. header `x-fake-llm-scenario`
//   2. marker `[scenario:NAME]` in any system/user message of the request
//   3. script.default, else the first scenario.
// Step = number of assistant messages after the last user message (one agent run = one user turn
// followed by the tool loop), so the choice is a pure function of the request: deterministic.
// Past the end of the list the last entry is repeated if it is text, else a fixed final text.
//
// Templates in string arguments/content: {{tool_results}} (all tool results of this turn, joined
// with "\n"), {{last_tool_result}}, {{user}} (last user message text), {{pad:N}} (N "x").
//
// Usage: node server.mjs [--port 0] [--host 127.0.0.1] [--script FILE | --script-json JSON]
//                        [--log FILE.jsonl] [--delay-ms N]
// Env:   FAKE_LLM_PORT, FAKE_LLM_HOST, FAKE_LLM_SCRIPT (file), FAKE_LLM_SCRIPT_JSON, FAKE_LLM_LOG,
//        FAKE_LLM_DELAY_MS
// Prints `LISTENING <port>` on stdout when ready.
// Extra endpoints: GET /v1/models, GET /_requests (logged requests as JSON), POST /_reset,
//                  POST /_script (replace the script with the JSON body), GET /healthz.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from '../lib/args.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));


const args = parseArgs(process.argv.slice(2));
const host = args.host ?? process.env.FAKE_LLM_HOST ?? '127.0.0.1';
const port = Number(args.port ?? process.env.FAKE_LLM_PORT ?? 0);
const logFile = args.log ?? process.env.FAKE_LLM_LOG ?? '';
const globalDelay = Number(args['delay-ms'] ?? process.env.FAKE_LLM_DELAY_MS ?? 0);

function loadScript() {
  const json = args['script-json'] ?? process.env.FAKE_LLM_SCRIPT_JSON;
  if (json) return JSON.parse(json);
  const file = args.script ?? process.env.FAKE_LLM_SCRIPT ?? path.join(here, 'scripts', 'support.json');
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

let script = validateScript(loadScript());
const requests = [];

function validateScript(s) {
  if (!s || typeof s !== 'object' || !s.scenarios || typeof s.scenarios !== 'object') {
    throw new Error('script must be an object with a "scenarios" map');
  }
  for (const [name, steps] of Object.entries(s.scenarios)) {
    if (!Array.isArray(steps) || steps.length === 0) throw new Error(`scenario ${name}: needs a non-empty list`);
  }
  return s;
}

function textOf(content) {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((p) => (typeof p === 'string' ? p : p?.text ?? '')).join('');
  }
  return String(content);
}

const MARKER = /\[scenario:([A-Za-z0-9_.\-]+)\]/;

function pickScenario(req, body) {
  const h = req.headers['x-fake-llm-scenario'];
  if (typeof h === 'string' && script.scenarios[h]) return h;
  for (const m of body.messages ?? []) {
    if (m.role !== 'system' && m.role !== 'user' && m.role !== 'developer') continue;
    const hit = MARKER.exec(textOf(m.content));
    if (hit && script.scenarios[hit[1]]) return hit[1];
  }
  if (script.default && script.scenarios[script.default]) return script.default;
  return Object.keys(script.scenarios)[0];
}

function turnOf(messages) {
  let lastUser = -1;
  messages.forEach((m, i) => { if (m.role === 'user') lastUser = i; });
  const turn = messages.slice(lastUser + 1);
  return {
    step: turn.filter((m) => m.role === 'assistant').length,
    toolResults: turn.filter((m) => m.role === 'tool').map((m) => textOf(m.content)),
    user: lastUser >= 0 ? textOf(messages[lastUser].content) : '',
  };
}

function render(value, ctx) {
  if (typeof value === 'string') {
    return value
      .replace(/\{\{tool_results\}\}/g, () => ctx.toolResults.join('\n'))
      .replace(/\{\{last_tool_result\}\}/g, () => ctx.toolResults.at(-1) ?? '')
      .replace(/\{\{user\}\}/g, () => ctx.user)
      .replace(/\{\{pad:(\d+)\}\}/g, (_, n) => 'x'.repeat(Number(n)));
  }
  if (Array.isArray(value)) return value.map((v) => render(v, ctx));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, render(v, ctx)]));
  }
  return value;
}

// Map a scripted tool name onto the tools the client offered (handles prefixed MCP tool names
// such as "filesystem__read_text_file").
function resolveToolName(name, tools) {
  const names = (tools ?? []).map((t) => t?.function?.name ?? t?.name).filter(Boolean);
  if (names.length === 0 || names.includes(name)) return name;
  const suffixed = names.find((n) => n.endsWith(`__${name}`) || n.endsWith(`_${name}`) || n.endsWith(`.${name}`));
  return suffixed ?? name;
}

function estimateTokens(s) {
  return Math.max(1, Math.ceil(s.length / 4));
}

function buildTurn(scenario, ctx, body) {
  const steps = script.scenarios[scenario];
  let entry = steps[Math.min(ctx.step, steps.length - 1)];
  if (ctx.step >= steps.length && entry.tool_calls) entry = { content: 'Done.' };
  const content = entry.content != null ? render(entry.content, ctx) : null;
  const toolCalls = (entry.tool_calls ?? []).map((tc, i) => ({
    id: `call_${scenario.replace(/[^A-Za-z0-9]/g, '')}_${ctx.step}_${i}`,
    type: 'function',
    function: {
      name: resolveToolName(tc.name, body.tools),
      arguments: typeof tc.arguments === 'string' ? render(tc.arguments, ctx) : JSON.stringify(render(tc.arguments ?? {}, ctx)),
    },
  }));
  return { entry, content, toolCalls };
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res, status, obj) {
  const data = JSON.stringify(obj);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

function record(entry) {
  requests.push(entry);
  if (logFile) fs.appendFileSync(logFile, JSON.stringify(entry) + '\n');
}

let seq = 0;

async function chatCompletions(req, res, raw) {
  let body;
  try {
    body = JSON.parse(raw || '{}');
  } catch {
    return sendJson(res, 400, { error: { message: 'invalid JSON', type: 'invalid_request_error' } });
  }
  const messages = Array.isArray(body.messages) ? body.messages : [];
  const scenario = pickScenario(req, body);
  const ctx = turnOf(messages);
  const { entry, content, toolCalls } = buildTurn(scenario, ctx, body);
  const id = `chatcmpl-fake-${++seq}`;
  const model = body.model ?? 'fake-model';
  record({
    ts: new Date().toISOString(),
    method: req.method,
    path: req.url,
    headers: req.headers,
    traceparent: req.headers.traceparent ?? null,
    remotePort: req.socket.remotePort,
    scenario,
    step: ctx.step,
    stream: !!body.stream,
    model,
    tools: (body.tools ?? []).map((t) => t?.function?.name ?? t?.name),
    response: { content, tool_calls: toolCalls.map((t) => ({ name: t.function.name, arguments: t.function.arguments })) },
    body,
  });

  const delay = Number(entry.delay_ms ?? globalDelay);
  if (delay > 0) await new Promise((r) => setTimeout(r, delay));

  if (entry.error) {
    return sendJson(res, entry.error.status ?? 500, {
      error: { message: entry.error.message ?? 'scripted error', type: entry.error.type ?? 'server_error' },
    });
  }

  const promptText = messages.map((m) => textOf(m.content)).join('\n');
  const completionText = (content ?? '') + toolCalls.map((t) => t.function.name + t.function.arguments).join('');
  const usage = {
    prompt_tokens: estimateTokens(promptText),
    completion_tokens: estimateTokens(completionText),
  };
  usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  const finish = toolCalls.length ? 'tool_calls' : 'stop';
  const created = Math.floor(Date.now() / 1000);

  if (!body.stream) {
    const message = { role: 'assistant', content: toolCalls.length && content == null ? null : content ?? '' };
    if (toolCalls.length) message.tool_calls = toolCalls;
    return sendJson(res, 200, {
      id, object: 'chat.completion', created, model, system_fingerprint: 'fp_fake',
      choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
      usage,
    });
  }

  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const base = { id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_fake' };
  const send = (choices, extra = {}) => res.write(`data: ${JSON.stringify({ ...base, choices, ...extra })}\n\n`);
  send([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]);
  if (content) {
    const parts = content.match(/.{1,16}/gs) ?? [content];
    for (const p of parts) send([{ index: 0, delta: { content: p }, logprobs: null, finish_reason: null }]);
  }
  toolCalls.forEach((tc, i) => {
    send([{ index: 0, delta: { tool_calls: [{ index: i, id: tc.id, type: 'function', function: { name: tc.function.name, arguments: '' } }] }, logprobs: null, finish_reason: null }]);
    send([{ index: 0, delta: { tool_calls: [{ index: i, function: { arguments: tc.function.arguments } }] }, logprobs: null, finish_reason: null }]);
  });
  send([{ index: 0, delta: {}, logprobs: null, finish_reason: finish }]);
  if (body.stream_options?.include_usage) send([], { usage });
  res.write('data: [DONE]\n\n');
  res.end();
}

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://x');
    const raw = await readBody(req);
    if (req.method === 'POST' && /\/chat\/completions$/.test(url.pathname)) return await chatCompletions(req, res, raw);
    if (req.method === 'GET' && /\/models$/.test(url.pathname)) {
      return sendJson(res, 200, { object: 'list', data: [{ id: 'fake-model', object: 'model', created: 0, owned_by: 'fake' }] });
    }
    if (req.method === 'GET' && url.pathname === '/_requests') return sendJson(res, 200, requests);
    if (req.method === 'POST' && url.pathname === '/_reset') { requests.length = 0; return sendJson(res, 200, { ok: true }); }
    if (req.method === 'POST' && url.pathname === '/_script') { script = validateScript(JSON.parse(raw)); return sendJson(res, 200, { ok: true }); }
    if (req.method === 'GET' && url.pathname === '/healthz') return sendJson(res, 200, { ok: true });
    record({ ts: new Date().toISOString(), method: req.method, path: req.url, headers: req.headers, traceparent: req.headers.traceparent ?? null, unhandled: true });
    sendJson(res, 404, { error: { message: `no route ${req.method} ${url.pathname}`, type: 'invalid_request_error' } });
  } catch (err) {
    sendJson(res, 500, { error: { message: String(err?.message ?? err), type: 'server_error' } });
  }
});

server.keepAliveTimeout = 5000;
server.listen(port, host, () => {
  process.stdout.write(`LISTENING ${server.address().port}\n`);
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
