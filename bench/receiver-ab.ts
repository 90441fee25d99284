/**
 * The OTLP/gRPC receiver of two builds side by side in one process (issue 11): each build's
 * OtlpGrpcServer + Intake, with a pipeline that takes each request and does nothing with it, is sent
 * the same loadgen requests (bench/loadgen-shape.ts, fresh ids each) over HTTP/2 from this process, in
 * alternating steps of STEP requests, CONCURRENCY calls at a time: CPU µs per span of the step
 * (process.cpuUsage, every thread: the client's share is the same for both builds, so a difference
 * is the receiver's). What it covers: HTTP/2 and the gRPC call, framing, the arrival check of each
 * span, the intake and the answer. On a shared machine, runs of separate processes (grpc-receiver.bench)
 * move ±40%; here both builds see the same machine at a step's grain. A script:
 *
 *   npm run build && taskset -c 1 node dist/bench/receiver-ab.js <llm|agent> <build A> <build B> [rounds=12] [ms per round=1000]
 */
import http2 from 'node:http2';
import { abArgs, abRounds, median } from './ab-rounds.js';
import { loadgenRequest } from './loadgen-shape.js';

const args = abArgs('receiver-ab', [['llm', 'agent']], { rounds: 12, ms: 1000 });
const shape = args.picked[0] as 'llm' | 'agent';
const { buildA, buildB, rounds: ROUNDS, roundMs: ROUND_MS } = args;
const STEP = 32;
const CONCURRENCY = 8;
const SPANS = 100;
const PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const HEADERS = { ':method': 'POST', ':path': PATH, 'content-type': 'application/grpc', te: 'trailers' };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

/** One build's receiver on an ephemeral port and a client session to it. */
async function receiverOf(dir: string): Promise<{ session: http2.ClientHttp2Session; stop(): Promise<void> }> {
  const load = (path: string): Promise<Any> => import(`${dir}/dist/${path}`);
  const { defaultGrpcConfig } = await load('receiver/otlp/config.js');
  const { OtlpGrpcServer } = await load('receiver/otlp/grpc-server.js');
  const { Intake } = await load('receiver/otlp/intake.js');
  const { RequestBudget } = await load('receiver/otlp/request-budget.js');
  const { Metrics } = await load('pipeline/telemetry/metrics.js');
  const { silentLogger } = await load('pipeline/telemetry/logger.js');
  const intake = new Intake('otlp', { traces: { consume: async () => {} } }, new Metrics(), silentLogger(), '');
  const server = new OtlpGrpcServer({ ...defaultGrpcConfig(), endpoint: '127.0.0.1:0' }, intake, silentLogger(), new RequestBudget(256 * 1024 * 1024));
  await server.start();
  const session = http2.connect(`http://${server.address}`);
  await new Promise((resolve, reject) => session.once('connect', resolve).once('error', reject));
  return {
    session,
    async stop() {
      session.close();
      await server.shutdown(1000);
    },
  };
}

/** One Export call; rejects unless it was answered grpc-status 0. */
function call(session: http2.ClientHttp2Session, body: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = session.request(HEADERS);
    let status: unknown;
    req.on('trailers', (t) => (status = t['grpc-status']));
    req.on('response', (h) => (status ??= h['grpc-status']));
    req.on('data', () => {});
    req.on('error', reject);
    req.on('close', () => (status === '0' ? resolve() : reject(new Error(`grpc-status ${String(status)}`))));
    req.end(body);
  });
}

function framed(message: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  message.copy(out, 5);
  return out;
}

const receivers = [await receiverOf(buildA), await receiverOf(buildB)];
let seq = 1;

/** One step of build `b`: STEP requests made, then sent CONCURRENCY at a time: CPU µs of the sending. */
async function step(b: number): Promise<number> {
  const { session } = receivers[b]!;
  const bodies: Buffer[] = [];
  for (let i = 0; i < STEP; i++) bodies.push(framed(loadgenRequest(shape, seq++, SPANS)));
  const c0 = process.cpuUsage();
  let next = 0;
  const lane = async () => {
    while (next < bodies.length) await call(session, bodies[next++]!);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  const c = process.cpuUsage(c0);
  return c.user + c.system;
}

const results = await abRounds(step, SPANS * STEP, ROUNDS, ROUND_MS);
const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
const show = (a: number[]) => `median ${median(a).toFixed(3)}, mean ${mean(a).toFixed(3)}`;
const ratios = results[1]!.map((b, i) => b / results[0]![i]!);
console.log(`OTLP/gRPC receiver, ${shape} load, client in process: A ${show(results[0]!)} | B ${show(results[1]!)} µs CPU per span; B/A per round ${show(ratios)} (${ROUNDS} rounds of ${ROUND_MS} ms)`);
console.log(`B/A per round: ${ratios.map((r) => r.toFixed(3)).join(' ')}`);
for (const r of receivers) await r.stop();
