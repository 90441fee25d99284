#!/usr/bin/env node
// Sanctioned external API stand-in (ticketing). HTTP JSON on loopback.
//   POST /tickets <any JSON>  -> 201 {id, received_bytes}
//   GET  /tickets             -> [{id, received_bytes, subject}]
//   GET  /_requests           -> request log incl. requestBytes and traceparent of each request
// Standalone: node services/ticket-api.mjs [--port 0] [--log F.jsonl] ; prints `LISTENING <port>`.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, startJsonServer } from './common.mjs';

export async function startTicketApi({ port = 0, log = '' } = {}) {
  const tickets = [];
  const handler = async (req, body, url, raw) => {
    if (req.method === 'POST' && url.pathname === '/tickets') {
      const id = `T-${1000 + tickets.length + 1}`;
      const subject = typeof body === 'object' && body ? String(body.subject ?? '') : '';
      tickets.push({ id, received_bytes: raw.length, subject });
      return { status: 201, body: { id, status: 'open', received_bytes: raw.length }, record: { ticketId: id, subject } };
    }
    if (req.method === 'GET' && url.pathname === '/tickets') return { status: 200, body: tickets };
    return { status: 404, body: { error: 'not found' } };
  };
  const srv = await startJsonServer({ name: 'ticket-api', port, log, handler });
  return { ...srv, tickets };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const args = parseArgs(process.argv.slice(2));
  const { port } = await startTicketApi({ port: Number(args.port ?? process.env.TICKET_PORT ?? 0), log: args.log ?? process.env.TICKET_LOG ?? '' });
  process.stdout.write(`LISTENING ${port}\n`);
  process.on('SIGTERM', () => process.exit(0));
  process.on('SIGINT', () => process.exit(0));
}
