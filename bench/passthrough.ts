/**
 * Spans/s through OTLP gRPC in -> batch -> OTLP gRPC out, for aibom-collector and, in the same run
 * and under the same load, for Jaeger v2 used as a pass-through collector. Each collector is pinned
 * to CPU 1 (Jaeger also with GOMAXPROCS=1); the load generator and the sink share CPU 0.
 *
 *   npm run build && node dist/bench/passthrough.js [--seconds 20] [--spans-per-request 100] [--concurrency 8]
 *
 * Reports spans/s delivered to the sink over the steady part of the run, refusals the load generator
 * saw (backpressure), and the collector's peak RSS (VmHWM).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { attr, bigIntToLong, nowUnixNanos, tracesCodec, type TracesData } from '../pipeline/otlp/index.js';
import { Proc, waitFor } from '../test/support/process.js';
import { freePorts } from '../test/support/ports.js';
import { collectorMain, jaegerBin } from '../test/support/tools.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    'spans-per-request': { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '8' },
  },
});
const SECONDS = Number(values.seconds);
const SPANS = Number(values['spans-per-request']);
const CONCURRENCY = Number(values.concurrency);

function request(): Buffer {
  const now = nowUnixNanos();
  const data: TracesData = {
    resourceSpans: [
      {
        resource: { attributes: [attr('service.name', 'bench-agent'), attr('process.pid', 1234), attr('host.name', 'bench')] },
        scopeSpans: [
          {
            scope: { name: 'bench', version: '1' },
            spans: Array.from({ length: SPANS }, (_, i) => ({
              traceId: Buffer.from(`${i.toString(16).padStart(8, '0')}0af7651916cd43dd8448eb21`, 'hex'),
              spanId: Buffer.from(i.toString(16).padStart(16, '0'), 'hex'),
              parentSpanId: Buffer.from('b7ad6b7169203331', 'hex'),
              name: 'chat gpt-4o',
              kind: 3,
              startTimeUnixNano: bigIntToLong(now),
              endTimeUnixNano: bigIntToLong(now + 1_500_000n),
              attributes: [
                attr('gen_ai.operation.name', 'chat'),
                attr('gen_ai.provider.name', 'openai'),
                attr('gen_ai.request.model', 'gpt-4o'),
                attr('gen_ai.usage.input_tokens', 812),
                attr('gen_ai.usage.output_tokens', 96),
                attr('server.address', 'api.openai.com'),
                attr('server.port', 443),
                attr('http.request.method', 'POST'),
                attr('http.response.status_code', 200),
                attr('gen_ai.request.temperature', 0.2),
              ],
              events: [{ timeUnixNano: bigIntToLong(now + 10n), name: 'gen_ai.choice', attributes: [attr('index', 0)] }],
              status: { code: 1 },
            })),
          },
        ],
      },
    ],
  };
  return Buffer.from(tracesCodec.encode(data));
}

/** An OTLP gRPC sink that counts spans; it answers at once. */
async function startSink(port: number): Promise<{ count: () => number; stop: () => Promise<void> }> {
  let spans = 0;
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
  server.addService(
    {
      Export: {
        path: tracesCodec.grpcPath,
        requestStream: false,
        responseStream: false,
        requestSerialize: (b: Buffer) => b,
        requestDeserialize: (b: Buffer) => b,
        responseSerialize: (b: Buffer) => b,
        responseDeserialize: (b: Buffer) => b,
      },
    },
    {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        spans += tracesCodec.count(tracesCodec.decode(call.request));
        cb(null, Buffer.from(tracesCodec.encodeResponse()));
      },
    },
  );
  await new Promise<void>((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
  return { count: () => spans, stop: () => new Promise((r) => server.tryShutdown(() => r())) };
}

async function load(port: number, payload: Buffer, sink: { count: () => number }): Promise<{ spansPerSec: number; refused: number; sent: number }> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  let stop = false;
  let refused = 0;
  let sent = 0;
  const worker = async () => {
    while (!stop) {
      const err = await new Promise<grpc.ServiceError | null>((resolve) =>
        client.makeUnaryRequest(tracesCodec.grpcPath, (b: Buffer) => b, (b: Buffer) => b, payload, (e) => resolve(e)),
      );
      if (err) {
        refused++;
        await new Promise((r) => setTimeout(r, 20));
      } else sent += SPANS;
    }
  };
  const workers = Array.from({ length: CONCURRENCY }, worker);
  // Skip a warm-up fifth of the run, then measure what reaches the sink.
  await new Promise((r) => setTimeout(r, (SECONDS * 1000) / 5));
  const c0 = sink.count();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const spansPerSec = ((sink.count() - c0) * 1000) / (performance.now() - t0);
  stop = true;
  await Promise.all(workers);
  client.close();
  return { spansPerSec, refused, sent };
}

function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function waitPort(port: number): Promise<void> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  await waitFor(`port ${port}`, () => new Promise<true | undefined>((resolve) => client.waitForReady(Date.now() + 500, (e) => resolve(e ? undefined : true))), 60_000);
  client.close();
}

async function measure(label: string, start: (inPort: number, sinkPort: number, dir: string) => Proc): Promise<void> {
  const [inPort, sinkPort] = (await freePorts(2)) as [number, number];
  const sink = await startSink(sinkPort);
  const proc = start(inPort, sinkPort, mkdtempSync(join(tmpdir(), 'aibom-bench-')));
  try {
    await waitPort(inPort);
    const r = await load(inPort, request(), sink);
    const rss = peakRssMiB(proc.child.pid!);
    console.log(`${label.padEnd(16)} ${Math.round(r.spansPerSec).toString().padStart(8)} spans/s   peak RSS ${rss.toFixed(0)} MiB   refusals ${r.refused}`);
    results.push({ label, spansPerSec: r.spansPerSec });
  } finally {
    await proc.stop();
    await sink.stop();
  }
}

const results: { label: string; spansPerSec: number }[] = [];
console.log(`OTLP gRPC -> batch -> OTLP gRPC, ${SPANS} spans/request, ${CONCURRENCY} concurrent senders, ${SECONDS}s measured, collector on CPU 1`);

await measure('aibom-collector', (inPort, sinkPort, dir) => {
  const cfg = join(dir, 'c.yaml');
  writeFileSync(
    cfg,
    `receivers: { otlp: { protocols: { grpc: { endpoint: 127.0.0.1:${inPort}, max_recv_msg_size_mib: 64 } } } }
processors: { batch: {} }
exporters: { otlp: { endpoint: 127.0.0.1:${sinkPort}, tls: { insecure: true }, compression: none } }
service:
  admin: { endpoint: "" }
  telemetry: { logs: { level: warn } }
  pipelines: { traces: { receivers: [otlp], processors: [batch], exporters: [otlp] } }
`,
  );
  return new Proc('taskset', ['-c', '1', process.execPath, collectorMain(), 'run', '--config', cfg]);
});

const jaeger = jaegerBin();
if (jaeger) {
  await measure('jaeger v2', (inPort, sinkPort, dir) => {
    const cfg = join(dir, 'j.yaml');
    writeFileSync(
      cfg,
      `receivers: { otlp: { protocols: { grpc: { endpoint: 127.0.0.1:${inPort}, max_recv_msg_size_mib: 64 } } } }
processors: { batch: {} }
exporters: { otlp: { endpoint: 127.0.0.1:${sinkPort}, tls: { insecure: true }, compression: none } }
service:
  telemetry: { metrics: { level: none }, logs: { level: warn } }
  pipelines: { traces: { receivers: [otlp], processors: [batch], exporters: [otlp] } }
`,
    );
    return new Proc('taskset', ['-c', '1', jaeger, '--config', cfg], { env: { ...process.env, GOMAXPROCS: '1' } });
  });
  const [ours, theirs] = results;
  if (ours && theirs) console.log(`ratio aibom-collector / jaeger v2 = ${(ours.spansPerSec / theirs.spansPerSec).toFixed(2)}`);
} else {
  console.log('jaeger v2 not built (.ci/install-tools.sh): comparison skipped');
}
