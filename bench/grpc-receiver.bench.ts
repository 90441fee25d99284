/**
 * The OTLP/gRPC receiver alone, in process: CPU time (user + system, this process, GC included) per
 * span and per request while bench/loadgen's Go client (.tools/bin/otlpbench, grpc-go, on CPU 0)
 * sends LLM-span requests at a fixed rate to an OtlpGrpcServer whose pipeline takes each request and
 * does nothing with it. What it covers: HTTP/2, the gRPC call, framing, the arrival check of each span
 * (decodeReceived), the intake and the answer. Builds given with --build are measured in turn,
 * interleaved round by round, so a shared machine moves them alike.
 *
 *   npm run build && taskset -c 1 node dist/bench/grpc-receiver.bench.js \
 *     [--build OTHER/dist]... [--rate 10000] [--seconds 5] [--rounds 3] [--spans 100] [--concurrency 8]
 */
import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Proc } from '../test/support/process.js';
import { findTool } from '../test/support/tools.js';

const { values } = parseArgs({
  options: {
    build: { type: 'string', multiple: true, default: [] },
    rate: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    spans: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '8' },
  },
});
const here = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const builds = [...values.build!.map((b) => resolve(b)), here];
const otlpbench = findTool('OTLPBENCH_BIN', '.tools/bin/otlpbench');
if (!otlpbench) throw new Error('.tools/bin/otlpbench is missing: run bench/setup.sh');

interface Modules {
  defaultGrpcConfig: () => object;
  OtlpGrpcServer: new (config: object, intake: object, logger: object, budget?: object) => { address: string; start(): Promise<void>; shutdown(ms: number): Promise<void> };
  /** Builds from stop 22 on: the receiver-wide budget of request bytes (absent before). */
  RequestBudget: (new (limit: number) => object) | undefined;
  Intake: new (component: string, next: object, metrics: object, logger: object, token: string) => object;
  Metrics: new () => { receiverAccepted: object; value(m: object, labels: Record<string, string>): Promise<number> };
  silentLogger: () => object;
}

async function load(build: string): Promise<Modules> {
  const m = (p: string) => import(join(build, p)) as Promise<Record<string, unknown>>;
  return {
    defaultGrpcConfig: (await m('receiver/otlp/config.js'))['defaultGrpcConfig'],
    OtlpGrpcServer: (await m('receiver/otlp/grpc-server.js'))['OtlpGrpcServer'],
    Intake: (await m('receiver/otlp/intake.js'))['Intake'],
    RequestBudget: (await m('receiver/otlp/request-budget.js').catch((): Record<string, unknown> => ({})))['RequestBudget'],
    Metrics: (await m('pipeline/telemetry/metrics.js'))['Metrics'],
    silentLogger: (await m('pipeline/telemetry/logger.js'))['silentLogger'],
  } as Modules;
}

async function measure(mod: Modules): Promise<{ usPerSpan: number; usPerRequest: number; spansPerSec: number; systemShare: number }> {
  const metrics = new mod.Metrics();
  const intake = new mod.Intake('otlp', { traces: { consume: async () => {} } }, metrics, mod.silentLogger(), '');
  // Each build's own defaults (connection limits, keepalive), as the embedded default runs it.
  const budget = mod.RequestBudget && new mod.RequestBudget(256 * 1024 * 1024);
  const server = new mod.OtlpGrpcServer({ ...mod.defaultGrpcConfig(), endpoint: '127.0.0.1:0', maxRecvMsgSizeMib: 64 }, intake, mod.silentLogger(), budget);
  await server.start();
  const accepted = () => metrics.value(metrics.receiverAccepted, { component: 'otlp', signal: 'traces', transport: 'grpc' });
  const args = ['-c', '0', otlpbench!, 'load', '-target', server.address, '-rate', values.rate!, '-spans', values.spans!, '-concurrency', values.concurrency!];
  const loadgen = new Proc('taskset', args, { env: { ...process.env, GOMAXPROCS: '1' } });
  try {
    await sleep(1500); // connect and warm up
    const spans0 = await accepted();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(Number(values.seconds) * 1000);
    const cpu = process.cpuUsage(cpu0);
    const seconds = (performance.now() - t0) / 1000;
    const spans = (await accepted()) - spans0;
    const us = cpu.user + cpu.system;
    return { usPerSpan: us / spans, usPerRequest: (us / spans) * Number(values.spans), spansPerSec: spans / seconds, systemShare: cpu.system / us };
  } finally {
    await loadgen.stop();
    await server.shutdown(1000);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const mods = await Promise.all(builds.map(load));
const loadavg = () => execFileSync('cat', ['/proc/loadavg']).toString().split(' ').slice(0, 3).join(' ');
console.log(`OTLP/gRPC receiver in process, ${values.rate} spans/s offered, ${values.spans} spans/request, ${values.seconds}s per run; CPU of this process`);
for (let round = 1; round <= Number(values.rounds); round++) {
  for (const [i, mod] of mods.entries()) {
    const r = await measure(mod);
    console.log(
      `round ${round} ${builds[i]!.padEnd(40)} ${r.usPerSpan.toFixed(2).padStart(6)} µs/span ${r.usPerRequest.toFixed(0).padStart(5)} µs/request ${r.spansPerSec.toFixed(0).padStart(7)} spans/s, ${(100 * r.systemShare).toFixed(0)}% system  (load ${loadavg()})`,
    );
  }
}
