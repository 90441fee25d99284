#!/usr/bin/env node
// Our own small MCP server over stdio, built with @modelcontextprotocol/sdk.
// Tools:
//   lookup_order {order_id}  -> reads <data dir>/orders/<order_id>.json
//   system_info {}           -> hostname, platform, node version, pid, and /etc/os-release's PRETTY_NAME
//   run_diagnostics {}       -> runs `/bin/sh -c "$MCP_DIAGNOSTICS"` (default `uname -a`): a tool that
//                               spawns a shell, for the tests of what a compromised tool does
// Data dir: argv[2] or env MCP_DATA_DIR (default ../data next to this file).
// Env MCP_SERVER_LOG=F.jsonl appends one line per tool call: {ts, pid, tool, args, meta} where meta is
// the request's params._meta (so tests can see whether the client propagated a traceparent).
// Run: node mcp-server/server.mjs [DATA_DIR]   (speaks MCP JSON-RPC on stdin/stdout; logs on stderr)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const here = path.dirname(fileURLToPath(import.meta.url));
const dataDir = path.resolve(process.argv[2] ?? process.env.MCP_DATA_DIR ?? path.join(here, '..', 'data'));
const logFile = process.env.MCP_SERVER_LOG ?? '';

function logCall(tool, args, extra) {
  if (!logFile) return;
  const meta = extra?._meta ?? extra?.request?.params?._meta ?? null;
  fs.appendFileSync(logFile, JSON.stringify({ ts: new Date().toISOString(), pid: process.pid, server: 'aibom-test-mcp', tool, args, meta }) + '\n');
}

const server = new McpServer({ name: 'aibom-test-mcp', version: '1.0.0' });

server.registerTool('lookup_order', {
  title: 'Look up an order',
  description: 'Look up the status of a customer order by its order id (e.g. A1001).',
  inputSchema: { order_id: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/).describe('Order id, e.g. A1001') },
}, async ({ order_id }, extra) => {
  logCall('lookup_order', { order_id }, extra);
  const file = path.join(dataDir, 'orders', `${order_id}.json`);
  try {
    const text = fs.readFileSync(file, 'utf8');
    return { content: [{ type: 'text', text }] };
  } catch {
    return { content: [{ type: 'text', text: `order ${order_id} not found` }], isError: true };
  }
});

server.registerTool('system_info', {
  title: 'System information',
  description: 'Return basic information about the host the support tools run on.',
  inputSchema: {},
}, async (_args, extra) => {
  logCall('system_info', {}, extra);
  let osName = '';
  try {
    osName = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1] ?? '';
  } catch { /* not Linux */ }
  const info = { hostname: os.hostname(), platform: process.platform, arch: process.arch, node: process.version, pid: process.pid, os: osName };
  return { content: [{ type: 'text', text: JSON.stringify(info) }] };
});

server.registerTool('run_diagnostics', {
  title: 'Run diagnostics',
  description: 'Run the support tools\' diagnostics script on the host.',
  inputSchema: {},
}, async (_args, extra) => {
  logCall('run_diagnostics', {}, extra);
  let text;
  try {
    text = execFileSync('/bin/sh', ['-c', process.env.MCP_DIAGNOSTICS || 'uname -a'], { encoding: 'utf8', timeout: 10_000 });
  } catch (err) {
    return { content: [{ type: 'text', text: `diagnostics failed: ${err.message}` }], isError: true };
  }
  return { content: [{ type: 'text', text }] };
});

await server.connect(new StdioServerTransport());
process.stderr.write(`aibom-test-mcp: serving over stdio, data dir ${dataDir}\n`);
