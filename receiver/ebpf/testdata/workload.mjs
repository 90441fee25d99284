// Monitored Node workload for sensor.test.ts (same steps as workload.py). Node links OpenSSL statically,
// so its TLS plaintext comes from uprobes on the node binary itself.
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

const cfg = JSON.parse(process.argv[2]);
// Optional credential header: the receiver tests check it is redacted.
const extra = cfg.authorization ? { authorization: cfg.authorization } : {};
await once(process.stdin, 'data');
process.stdin.pause();

execFileSync(cfg.childExe, ['aibom-child-node'], { stdio: 'ignore' });
readFileSync(cfg.file);
readFileSync(cfg.credFile);

await new Promise((resolve, reject) => {
  const s = net.connect(cfg.tcpPort, '127.0.0.1', () => {
    s.end();
    resolve();
  });
  s.on('error', reject);
});

const labels = cfg.dnsName.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
const query = Buffer.concat([
  Buffer.from([0x43, 0x21, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]),
  ...labels,
  Buffer.from([0, 0, 1, 0, 1]),
]);
const u = dgram.createSocket('udp4');
u.send(query, 53, cfg.dnsHost);
await once(u, 'message');
u.close();

function request(mod, opts, body) {
  return new Promise((resolve, reject) => {
    const req = mod.request(opts, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end(body);
  });
}

await request(
  https,
  {
    host: '127.0.0.1',
    port: cfg.tlsPort,
    method: 'POST',
    path: '/tls-node',
    ca: readFileSync(cfg.caFile),
    headers: { traceparent: cfg.traceparentTls, ...extra },
    agent: false,
  },
  cfg.tlsBody,
);
await request(
  http,
  { host: '127.0.0.1', port: cfg.httpPort, method: 'GET', path: '/plain-node', headers: { traceparent: cfg.traceparentHttp, ...extra }, agent: false },
  undefined,
);
process.exit(9);
