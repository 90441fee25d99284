#!/usr/bin/env node
// Starts kb-service and ticket-api in this one process on 127.0.0.1 (ephemeral ports by default).
//   node services.mjs [--kb-port 0] [--ticket-port 0] [--log F.jsonl] [--injection on|off]
// Prints `SERVICE kb-service <port>`, `SERVICE ticket-api <port>`, then `LISTENING <kbPort> <ticketPort>`.
// Env: KB_INJECTION=off, KB_INJECTION_TEXT, SERVICES_LOG.
import { parseArgs } from './services/common.mjs';
import { startKbService } from './services/kb-service.mjs';
import { startTicketApi } from './services/ticket-api.mjs';

const args = parseArgs(process.argv.slice(2));
const log = args.log ?? process.env.SERVICES_LOG ?? '';
const injection = String(args.injection ?? process.env.KB_INJECTION ?? 'on') !== 'off';
const kb = await startKbService({ port: Number(args['kb-port'] ?? 0), log, injection, injectionText: process.env.KB_INJECTION_TEXT || undefined });
const ticket = await startTicketApi({ port: Number(args['ticket-port'] ?? 0), log });
process.stdout.write(`SERVICE kb-service ${kb.port}\nSERVICE ticket-api ${ticket.port}\nLISTENING ${kb.port} ${ticket.port}\n`);
const stop = () => { kb.server.close(); ticket.server.close(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
