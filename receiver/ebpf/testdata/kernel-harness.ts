// Shared by the real-kernel tests (sensor.test.ts, ebpf-receiver.test.ts): the prerequisites check, the
// local peers the workloads talk to (TCP, HTTPS, HTTP, a DNS responder of our own) and the workload
// processes themselves (workload.py / workload.mjs).

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const TESTDATA = here;
export const SENSOR = path.resolve(here, '../../../bpf/.output/aibom-sensor');

/**
 * The real-kernel tests need root, BTF and the built sensor. Missing any is a failure that says how to
 * fix it, never a skip: these are the tests that prove the sensor works.
 */
export function assertKernelPrerequisites(): void {
  const problem =
    process.platform !== 'linux'
      ? 'not Linux'
      : process.getuid?.() !== 0
        ? 'not root (the sensor needs CAP_BPF/CAP_PERFMON)'
        : !existsSync('/sys/kernel/btf/vmlinux')
          ? 'no /sys/kernel/btf/vmlinux (kernel without BTF)'
          : !existsSync(SENSOR)
            ? `${SENSOR} missing: run make -C bpf`
            : undefined;
  if (problem) throw new Error(`the real-kernel tests cannot run: ${problem}`);
}

export interface Workload {
  proc: ChildProcess;
  exit: Promise<number | null>;
  output: string[];
}

/** `env` replaces the whole environment (default: this process's). */
export function startWorkload(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Workload {
  const proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
  const output: string[] = [];
  proc.stdout!.on('data', (c: Buffer) => output.push(c.toString()));
  proc.stderr!.on('data', (c: Buffer) => output.push(c.toString()));
  const exit = once(proc, 'exit').then(([code]) => code as number | null);
  return { proc, exit, output };
}

export interface Peers {
  tmp: string;
  credDir: string;
  dnsHost: string;
  tcpPort: number;
  tlsPort: number;
  httpPort: number;
  /** `METHOD url traceparent body` of every request the HTTP(S) servers answered. */
  received: string[];
  /** Config for a workload run (JSON in argv[1]); `authorization` adds that header to both HTTP requests. */
  workloadConfig(tag: string, extra?: Record<string, unknown>): Record<string, unknown>;
  close(): void;
}

export async function startPeers(dnsHost: string): Promise<Peers> {
  const tmp = mkdtempSync(path.join(tmpdir(), 'aibom-sensor-'));
  const credDir = path.join(tmp, 'creds');
  const servers: { close(): void }[] = [];
  const received: string[] = [];
  mkdirSync(credDir);
  writeFileSync(path.join(tmp, 'known-file.txt'), 'hello');
  writeFileSync(path.join(credDir, 'token'), 'not-a-real-secret');
  writeFileSync(path.join(tmp, 'unmonitored-marker.txt'), 'x');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', path.join(tmp, 'key.pem'), '-out', path.join(tmp, 'cert.pem'), '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
  ], { stdio: 'ignore' });

  const tcp = net.createServer((s) => s.destroy());
  tcp.listen(0, '127.0.0.1');
  await once(tcp, 'listening');
  servers.push(tcp);

  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push(`${req.method} ${req.url} ${req.headers.traceparent ?? ''} ${body}`);
      res.end('ok');
    });
  };
  const tls = https.createServer({ key: readFileSync(path.join(tmp, 'key.pem')), cert: readFileSync(path.join(tmp, 'cert.pem')) }, handler);
  tls.listen(0, '127.0.0.1');
  await once(tls, 'listening');
  servers.push(tls);

  const plain = http.createServer(handler);
  plain.listen(0, '127.0.0.1');
  await once(plain, 'listening');
  servers.push(plain);

  // A DNS responder of our own: the system resolver is never involved.
  const dns = dgram.createSocket('udp4');
  dns.on('message', (q, rinfo) => {
    const resp = Buffer.concat([q, Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1])]);
    resp[2] = 0x81;
    resp[3] = 0x80;
    resp.writeUInt16BE(1, 6);
    dns.send(resp, rinfo.port, rinfo.address);
  });
  dns.bind(53, dnsHost);
  await once(dns, 'listening');
  servers.push(dns);

  const tcpPort = (tcp.address() as net.AddressInfo).port;
  const tlsPort = (tls.address() as net.AddressInfo).port;
  const httpPort = (plain.address() as net.AddressInfo).port;
  return {
    tmp,
    credDir,
    dnsHost,
    tcpPort,
    tlsPort,
    httpPort,
    received,
    workloadConfig(tag, extra = {}) {
      const trace = randomBytes(16).toString('hex');
      return {
        childExe: '/bin/echo',
        file: path.join(tmp, 'known-file.txt'),
        credFile: path.join(credDir, 'token'),
        tcpPort,
        tlsPort,
        httpPort,
        dnsHost,
        dnsName: `${tag}.aibom-test.example`,
        caFile: path.join(tmp, 'cert.pem'),
        tlsBody: `${tag}-tls-body-${randomBytes(4).toString('hex')}`,
        traceparentTls: `00-${trace}-${randomBytes(8).toString('hex')}-01`,
        traceparentHttp: `00-${trace}-${randomBytes(8).toString('hex')}-01`,
        ...extra,
      };
    },
    close() {
      for (const s of servers) s.close();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
