// Conversion throughput of receiver/ebpf: decoded kernel events -> OTLP LogsData (LogsBuilder), on a
// synthetic stream shaped like real sensor output (mostly opens, some exec/connect/TLS with traceparent).
// Also the receiver's whole ingest path (frames -> decoded records -> metrics, batch, queue) in small chunks, as the
// sensor hands them over while an agent runs, in CPU time per event. A script, not a timed unit test:
//   npx tsc -p tsconfig.build.json && node dist/bench/ebpf-receiver.bench.js [events] [ingest]   (ingest: only that part;
//   CHUNK=n sets its chunk size)
//   node --expose-gc dist/bench/ebpf-receiver.bench.js 100000 retained   (only the heap an open event's record keeps
//   alive while correlate holds it: the event, its record and what they hold)
//   node dist/bench/ebpf-receiver.bench.js 200000 wire   (only parseWire + requestModel per call: an LLM request head
//   with its body, a response head, a bare MCP message)
import pino from 'pino';
import type { LogsData } from '../pipeline/otlp/types.js';
import { redactArgs } from '../pipeline/redact.js';
import { Metrics } from '../pipeline/telemetry/metrics.js';
import { createDefaultConfig } from '../receiver/ebpf/config.js';
import { EbpfReceiver } from '../receiver/ebpf/ebpf-receiver.js';
import { createContainerResolver } from '../receiver/ebpf/container.js';
import { LogsBuilder, nsToLong } from '../receiver/ebpf/convert.js';
import { createFrameDecoder, type FrameDecoder, type SensorEvent, type SensorRecord } from '../receiver/ebpf/frame-decoder.js';
import { connectEventPayload, encodeFrame, execEventPayload, openEventPayload, streamHeaderPayload, tlsEventPayload } from '../receiver/ebpf/frame-fixtures.js';
import { CONSTANTS as C, STRUCTS as S } from '../receiver/ebpf/layout.js';

const total = Number(process.argv[2] ?? 1_000_000);
const onlyIngest = process.argv[3] === 'ingest';
const onlyRetained = process.argv[3] === 'retained';
const onlyWire = process.argv[3] === 'wire';
const tlsData = Buffer.from(`POST /v1/chat/completions HTTP/1.1\r\nhost: api.example\r\nauthorization: Bearer sk-abcdefgh\r\ntraceparent: 00-${'a'.repeat(32)}-${'b'.repeat(16)}-01\r\n\r\n${'x'.repeat(400)}`);
const frames: Buffer[] = [encodeFrame(C.FRAME_STREAM_HEADER, streamHeaderPayload(1_700_000_000_000_000_000n), 0)];
for (let i = 0; i < 1000; i++) {
  const pid = 4_000_000 + (i % 50); // 50 processes, none in /proc: no /proc reads in the loop
  const kind = i % 20;
  const payload =
    kind === 0
      ? execEventPayload({ pid, filename: '/usr/bin/python3', args: ['python3', '-m', 'agent'] })
      : kind === 1
        ? connectEventPayload({ pid, daddr: [10, 0, 0, 1], dport: 443 })
        : kind === 2
          ? tlsEventPayload({ pid, data: tlsData })
          : openEventPayload({ pid, path: `/usr/lib/python3.11/site-packages/pkg${i}/module.py` });
  frames.push(encodeFrame(C.FRAME_EVENT, payload, i + 1));
}
const isEvent = (r: SensorRecord): r is SensorEvent => r.kind !== 'stream-header' && r.kind !== 'stats' && r.kind !== 'log' && r.kind !== 'monitor';
const events1000 = Buffer.concat(frames.slice(1));

// Decoded anew for every pass: the builder takes the events it is given (it drops their data once read).
for (const capturePayload of onlyIngest || onlyRetained || onlyWire ? [] : [false, true]) {
  const builder = new LogsBuilder({ capturePayload, containers: createContainerResolver({ procRoot: '/nonexistent' }), processCacheSize: 16_384, scopeVersion: 'bench' });
  const decoder = createFrameDecoder();
  decoder.push(frames[0]!);
  const now = nsToLong(BigInt(Date.now()) * 1_000_000n);
  let records = 0;
  const t0 = process.hrtime.bigint();
  for (let n = 0; n < total; ) {
    const decoded = decoder.push(events1000).filter(isEvent);
    for (let i = 0; i < decoded.length && n < total; i++, n++) {
      builder.add(decoded[i]!, now, now);
      if (builder.count >= 2048) records += countRecords(builder.take());
    }
  }
  records += countRecords(builder.take());
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`capture_payload=${capturePayload}: ${records} events decoded -> log records in ${s.toFixed(2)} s = ${Math.round(records / s).toLocaleString('en')} records/s`);
}

// What a TLS/HTTP event's captured bytes say, per call, hot (parseWire: receiver/ebpf's own or, under
// another build's dist, that build's; requestModel where that build has it).
if (onlyWire) {
  const wire = await import('../receiver/ebpf/wire-parse.js');
  const convert = (await import('../receiver/ebpf/convert.js')) as { requestModel?: (d: Buffer) => string | undefined };
  const model = (wire as { requestModel?: (d: Buffer) => string | undefined }).requestModel ?? convert.requestModel!;
  const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const cases: [string, Buffer][] = [
    ['request', Buffer.from(`POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1:8080\r\ntraceparent: ${tp}\r\ncontent-type: application/json\r\ncontent-length: 200\r\nuser-agent: OpenAI/Python 1.51.0\r\naccept: application/json\r\n\r\n{"model":"gpt-4o","messages":[{"role":"user","content":"${'y'.repeat(600)}"}]}`)],
    ['response', Buffer.from('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 120\r\ndate: Mon, 30 Nov 2026 20:00:00 GMT\r\n\r\n{"id":"chatcmpl-2","choices":[]}')],
    ['mcp', Buffer.from(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"search","arguments":{"q":"x"},"_meta":{"traceparent":"${tp}"}}}\n`)],
  ];
  for (const [what, data] of cases) {
    let ns = 0;
    for (let round = 0; round < 4; round++) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < total; i++) {
        wire.parseWire(data);
        if (what === 'request') model(data);
      }
      ns = Number(process.hrtime.bigint() - t0) / total; // the last round's
    }
    console.log(`wire ${what}: ${ns.toFixed(0)} ns per call${what === 'request' ? ' (with requestModel)' : ''}`);
  }
}

// Heap kept per converted open event (4 processes, 10 paths: the strings are shared), as correlate holds them.
if (onlyRetained) {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('retained: run node with --expose-gc');
  const builder = new LogsBuilder({ capturePayload: false, containers: createContainerResolver({ procRoot: '/nonexistent' }), processCacheSize: 64, readProc: false, hostName: 'h', scopeVersion: 'bench' });
  const decoder = createFrameDecoder();
  decoder.push(frames[0]!);
  const opens = Buffer.concat(
    Array.from({ length: 1000 }, (_, i) => encodeFrame(C.FRAME_EVENT, openEventPayload({ pid: 4_000_000 + (i % 4), comm: 'python3', path: `/usr/lib/python3.11/m${i % 10}.py` }), i + 1)),
  );
  const now = nsToLong(BigInt(Date.now()) * 1_000_000n);
  const kept: LogsData[] = [];
  const batch = () => {
    for (const ev of decoder.push(opens).filter(isEvent)) builder.add(ev, now, now);
    return builder.take();
  };
  for (let i = 0; i < 5; i++) batch(); // warm: caches filled, code optimised
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < Math.max(1, Math.round(total / 1000)); i++) kept.push(batch());
  gc();
  const records = kept.reduce((n, d) => n + countRecords(d), 0);
  console.log(`retained: ${((process.memoryUsage().heapUsed - before) / records).toFixed(1)} B of heap per held open event (${records} held)`);
}

// The ingest path in chunks of CHUNK events (the agent run of `sensor-overhead.js agent` delivers ~3-7k events
// over ~9 s, i.e. a few to tens per 50 ms poll of the sensor). CPU time, so other load on the machine matters little.
if (!onlyRetained && !onlyWire) {
  const CHUNK = Number(process.env.CHUNK ?? 16);
  const PACE_MS = Number(process.env.PACE_MS ?? 50);
  let delivered = 0;
  const receiver = new EbpfReceiver(
    { id: 'ebpf', name: '', logger: pino({ level: 'silent' }), metrics: new Metrics() },
    { ...createDefaultConfig(), batch: { timeoutMs: 200, maxEvents: 2048 } },
    { logs: { consume: async (d: LogsData) => void (delivered += countRecords(d)) } },
  );
  const ingest = (receiver as unknown as { ingest(recs: readonly SensorRecord[], d: FrameDecoder): void }).ingest.bind(receiver);
  // Frames as the sensor sends them, decoded per chunk as the receiver does: the bench's parent stands in
  // for the agent (a live process: one /proc read of its image and cgroup, then cached), events happen now.
  const decoder = createFrameDecoder();
  decoder.push(encodeFrame(C.FRAME_STREAM_HEADER, streamHeaderPayload(BigInt(Date.now()) * 1_000_000n - 1_000_000_000n), 0));
  const pid = process.ppid;
  const chunkFrames: Buffer[][] = [];
  for (let i = 0; i + CHUNK <= 1000; i += CHUNK) {
    const chunk: Buffer[] = [];
    for (let j = i; j < i + CHUNK; j++) {
      const f = Buffer.from(frames[j + 1]!);
      f.writeUInt32LE(pid, S.frame_hdr.size + S.event_hdr.fields.pid.offset);
      chunk.push(f);
    }
    chunkFrames.push(chunk);
  }
  let seq = 1;
  /** The next chunk's bytes, sequence numbers in order (the decoder counts gaps). */
  const chunkAt = (k: number): Buffer => {
    const chunk = chunkFrames[k % chunkFrames.length]!;
    for (const f of chunk) f.writeUInt32LE(seq++ >>> 0, S.frame_hdr.fields.seq.offset);
    return Buffer.concat(chunk);
  };
  const n = Math.min(total, 200_000);
  for (let round = 0; round < 6; round++) {
    let cpu = 0;
    let fed = 0;
    for (let k = 0; fed < n; k++) {
      const c0 = process.cpuUsage();
      for (let j = 0; j < 64 && fed < n; j++, fed += CHUNK) ingest(decoder.push(chunkAt(k * 64 + j)), decoder);
      const c = process.cpuUsage(c0);
      cpu += c.user + c.system;
      await new Promise((r) => setImmediate(r)); // the queue hands batches on between chunks, as in the collector
    }
    console.log(`ingest, chunks of ${CHUNK}: ${(cpu / fed).toFixed(2)} µs CPU per event (round ${round}, ${fed} events)`);
  }
  // Paced as in the agent run: one chunk every PACE_MS (default 50: the sensor's poll), while other processes use the
  // CPU in between. CPU of the whole process over the paced run, so wakeups and timers count too.
  for (let round = 0; round < 2; round++) {
    const paced = Math.min(n, Math.round(5000 / PACE_MS) * CHUNK);
    const c0 = process.cpuUsage();
    for (let i = 0, k = 0; i < paced; i += CHUNK, k++) {
      ingest(decoder.push(chunkAt(k)), decoder);
      await new Promise((r) => setTimeout(r, PACE_MS));
    }
    const c = process.cpuUsage(c0);
    console.log(`ingest paced (a chunk of ${CHUNK} every ${PACE_MS} ms): ${((c.user + c.system) / paced).toFixed(2)} µs CPU per event (round ${round}, ${paced} events)`);
  }
  (receiver as unknown as { flush(): void }).flush();
  await new Promise((r) => setImmediate(r));
  console.log(`ingest: ${delivered} log records delivered`);
  await receiver.shutdown();
}

// argv redaction, paid once per exec event (and per /proc fallback read).
const argvs: [string, string[]][] = [
  ['python3 -m agent', ['python3', '-m', 'agent']],
  ['node, 12 ordinary args', ['/usr/bin/node', '--enable-source-maps', '/app/dist/agent.js', '--model', 'gpt-4o', '--max-tokens', '512', '--port=8080', '-v', '/data/in.json', 'https://api.example.com/v1', 'run']],
  ['curl with 3 secrets', ['curl', '-H', 'Authorization: Bearer sk-live-0123456789abcdef', '-u', 'bob:pw', 'https://x.example/v1?api_key=abc&q=1', '--data', '{"a":1}']],
];
for (const [what, argv] of onlyIngest || onlyRetained || onlyWire ? [] : argvs) {
  const n = 200_000;
  let kept = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) if (redactArgs(argv) === argv) kept++;
  const us = Number(process.hrtime.bigint() - t0) / 1e3 / n;
  console.log(`redactArgs(${what}): ${us.toFixed(2)} µs per argv${kept === n ? ' (unchanged)' : ''}`);
}

function countRecords(d: { resourceLogs: { scopeLogs: { logRecords: unknown[] }[] }[] }): number {
  let n = 0;
  for (const rl of d.resourceLogs) for (const sl of rl.scopeLogs) n += sl.logRecords.length;
  return n;
}
