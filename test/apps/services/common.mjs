// Shared helpers for the scenario services (tiny JSON-over-HTTP servers on loopback).
import http from 'node:http';
import fs from 'node:fs';

export { parseArgs } from '../lib/args.mjs';

// Start a JSON HTTP server. handler(req, body, url) returns {status, body} (body JSON-serialised).
// Every request is appended to `log` (JSONL file) if given and kept in `records`.
export function startJsonServer({ name, host = '127.0.0.1', port = 0, log = '', handler }) {
  const records = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const raw = Buffer.concat(chunks);
      const url = new URL(req.url, 'http://x');
      let out;
      try {
        let body = null;
        if (raw.length) {
          try { body = JSON.parse(raw.toString('utf8')); } catch { body = raw.toString('utf8'); }
        }
        if (req.method === 'GET' && url.pathname === '/_requests') out = { status: 200, body: records };
        else if (req.method === 'GET' && url.pathname === '/healthz') out = { status: 200, body: { ok: true, service: name } };
        else out = await handler(req, body, url, raw);
      } catch (err) {
        out = { status: 500, body: { error: String(err?.message ?? err) } };
      }
      if (url.pathname !== '/_requests' && url.pathname !== '/healthz') {
        const rec = {
          ts: new Date().toISOString(), service: name, method: req.method, path: url.pathname,
          requestBytes: raw.length, traceparent: req.headers.traceparent ?? null, headers: req.headers,
          remotePort: req.socket.remotePort, status: out.status, ...(out.record ?? {}),
        };
        records.push(rec);
        if (log) fs.appendFileSync(log, JSON.stringify(rec) + '\n');
      }
      const data = JSON.stringify(out.body ?? {});
      res.writeHead(out.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
      res.end(data);
    });
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve({ server, port: server.address().port, records })));
}
