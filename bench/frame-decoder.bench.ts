// Decode throughput of receiver/ebpf/frame-decoder.ts on a synthetic stream shaped like real sensor output
// (mostly opens, some exec/connect/TLS). A script, not a timed unit test:
//   npx tsc -p tsconfig.build.json && node dist/bench/frame-decoder.bench.js [MB]
import { createFrameDecoder, type SensorRecord } from '../receiver/ebpf/frame-decoder.js';
import {
  connectEventPayload,
  encodeFrame,
  execEventPayload,
  openEventPayload,
  tlsEventPayload,
} from '../receiver/ebpf/frame-fixtures.js';
import { CONSTANTS as C } from '../receiver/ebpf/layout.js';

const targetMb = Number(process.argv[2] ?? 64);
const tlsData = Buffer.from(`POST /v1/chat/completions HTTP/1.1\r\nhost: api.example\r\ntraceparent: 00-${'a'.repeat(32)}-${'b'.repeat(16)}-01\r\n\r\n${'x'.repeat(400)}`);
const frames: Buffer[] = [];
let seq = 0;
for (let i = 0; i < 100; i++) {
  const kind = i % 20;
  const payload =
    kind === 0
      ? execEventPayload({ pid: 1000 + i, filename: '/usr/bin/python3', args: ['python3', '-m', 'agent', '--model', 'x'] })
      : kind === 1
        ? connectEventPayload({ pid: 1000 + i, daddr: [10, 0, 0, 1], dport: 443 })
        : kind === 2
          ? tlsEventPayload({ pid: 1000 + i, data: tlsData })
          : openEventPayload({ pid: 1000 + i, path: `/usr/lib/python3.11/site-packages/pkg${i}/module_${i}.py` });
  frames.push(encodeFrame(C.FRAME_EVENT, payload, seq++));
}
const unit = Buffer.concat(frames);
const copies = Math.ceil((targetMb * 1024 * 1024) / unit.length);
// Re-sequence every copy so the decoder sees a gapless stream.
const stream = Buffer.alloc(unit.length * copies);
for (let c = 0; c < copies; c++) {
  unit.copy(stream, c * unit.length);
}
let off = 0;
for (let f = 0; f < frames.length * copies; f++) {
  stream.writeUInt32LE(f, off + 12);
  off += stream.readUInt32LE(off + 8) + 16;
}
const chunkSize = 64 * 1024; // what a pipe read delivers
const chunks: Buffer[] = [];
for (let i = 0; i < stream.length; i += chunkSize) chunks.push(stream.subarray(i, i + chunkSize));

function run(): { frames: number; seconds: number } {
  const dec = createFrameDecoder({ onError: (e) => { throw e; } });
  const out: SensorRecord[] = [];
  let n = 0;
  const t0 = process.hrtime.bigint();
  for (const ch of chunks) {
    out.length = 0;
    dec.push(ch, out);
    n += out.length;
  }
  dec.end();
  return { frames: n, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

run(); // warm-up
const results = [run(), run(), run()].sort((a, b) => a.seconds - b.seconds);
const med = results[1]!;
console.log(
  JSON.stringify({
    streamMB: +(stream.length / 1048576).toFixed(1),
    frames: med.frames,
    avgFrameBytes: Math.round(stream.length / med.frames),
    framesPerSec: Math.round(med.frames / med.seconds),
    MBPerSec: +(stream.length / 1048576 / med.seconds).toFixed(1),
  }),
);
