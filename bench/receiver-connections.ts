/**
 * What an idle connection costs the OTLP receiver: the RSS of a process running only an OtlpReceiver
 * (gRPC + HTTP, its default limits except max_connections) before and after N idle gRPC sessions
 * (handshake done, no call) and then N idle HTTP/1.1 keep-alive connections (one answered request
 * each), after a forced GC. The clients run in this process, the receiver in a child (--serve).
 *
 *   npm run build && node --expose-gc dist/bench/receiver-connections.js [--connections 1000]
 */
import { fork, type ChildProcess } from 'node:child_process';
import http2 from 'node:http2';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createDefaultConfig } from '../receiver/otlp/config.js';
import { OtlpReceiver } from '../receiver/otlp/otlp-receiver.js';
import { createHost } from '../pipeline/host.js';
import { silentLogger } from '../pipeline/telemetry/logger.js';
import { Metrics } from '../pipeline/telemetry/metrics.js';
import { tracesCodec } from '../pipeline/otlp/codec.js';

const { values } = parseArgs({ options: { connections: { type: 'string', default: '1000' }, serve: { type: 'boolean', default: false } } });
const n = Number(values.connections);

type Message = { addresses: { grpc: string; http: string } } | { rss: number };

if (values.serve) await serve();
else await measure();

/** The child: a receiver, answering each 'rss' message with its RSS after a full GC. */
async function serve(): Promise<void> {
  const config = createDefaultConfig();
  Object.assign(config.protocols.grpc!, { endpoint: '127.0.0.1:0', maxConnections: n + 10 });
  Object.assign(config.protocols.http!, { endpoint: '127.0.0.1:0', maxConnections: n + 10 });
  const receiver = new OtlpReceiver({ id: 'otlp', name: '', logger: silentLogger(), metrics: new Metrics() }, config, { traces: { consume: async () => {} } });
  await receiver.start(createHost());
  process.send!({ addresses: receiver.addresses });
  process.on('message', () => {
    globalThis.gc?.();
    process.send!({ rss: process.memoryUsage().rss });
  });
  process.on('disconnect', () => void receiver.shutdown().then(() => process.exit(0)));
}

async function measure(): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', '--connections', String(n)], { execArgv: ['--expose-gc'] });
  const { addresses } = (await next(child)) as { addresses: { grpc: string; http: string } };
  const rss = async () => ((child.send('rss'), (await next(child)) as { rss: number }).rss);
  const mib = (b: number) => (b / 1048576).toFixed(1);
  const base = await rss();
  const sessions: http2.ClientHttp2Session[] = [];
  for (let i = 0; i < n; i++) sessions.push(await h2Session(addresses.grpc));
  const withGrpc = await rss();
  const sockets: net.Socket[] = [];
  for (let i = 0; i < n; i++) sockets.push(await keptAlive(addresses.http));
  const withHttp = await rss();
  console.log(`receiver RSS: ${mib(base)} MiB idle; +${n} idle gRPC sessions: ${mib(withGrpc)} MiB (${((withGrpc - base) / n / 1024).toFixed(1)} KiB each); ` +
    `+${n} idle HTTP/1.1 keep-alive connections: ${mib(withHttp)} MiB (${((withHttp - withGrpc) / n / 1024).toFixed(1)} KiB each)`);
  for (const s of sessions) s.destroy();
  for (const s of sockets) s.destroy();
  child.disconnect();
}

function next(child: ChildProcess): Promise<Message> {
  return new Promise((resolve) => child.once('message', (m) => resolve(m as Message)));
}

function h2Session(address: string): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const s = http2.connect(`http://${address}`);
    s.once('remoteSettings', () => resolve(s));
    s.once('error', reject);
  });
}

/** A connection that carried one request and is now idle in keep-alive. */
function keptAlive(address: string): Promise<net.Socket> {
  const i = address.lastIndexOf(':');
  const body = Buffer.from(tracesCodec.encode({ resourceSpans: [] }));
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(address.slice(i + 1)), address.slice(0, i), () => {
      socket.write(`POST /v1/traces HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-protobuf\r\ncontent-length: ${body.length}\r\n\r\n`);
      socket.write(body);
    });
    socket.once('data', () => resolve(socket));
    socket.once('error', reject);
  });
}
