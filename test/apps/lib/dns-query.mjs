#!/usr/bin/env node
// Sends one DNS A query for NAME to SERVER:53 over UDP and prints the answer's size (or "timeout").
// Tests use it with a responder they run on a 127.0.0.x address, so no query reaches the system resolver.
// Run: node lib/dns-query.mjs NAME SERVER
import dgram from 'node:dgram';

const [name, server] = process.argv.slice(2);
if (!name || !server) {
  process.stderr.write('usage: dns-query.mjs NAME SERVER\n');
  process.exit(2);
}
const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
const query = Buffer.concat([Buffer.from([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, Buffer.from([0, 0, 1, 0, 1])]);
const u = dgram.createSocket('udp4');
const timer = setTimeout(() => {
  process.stdout.write('timeout\n');
  u.close();
}, 2000);
u.on('message', (m) => {
  clearTimeout(timer);
  process.stdout.write(`answer ${m.length} bytes\n`);
  u.close();
});
u.send(query, 53, server);
