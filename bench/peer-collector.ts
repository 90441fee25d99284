// A peer collector for the benches' side-by-side figures: Jaeger v2 or the OpenTelemetry Collector, taking
// OTLP/gRPC on a port of the caller's choosing and storing what it gets as a team would run it.
//   jaeger   .tools/bin/jaeger: OTLP receiver -> batch -> jaeger_storage_exporter (memory store, 100 000 traces)
//   otelcol  .tools/bin/otelcol (.ci/otelcol-builder.yaml): OTLP receiver -> batch -> file exporter (OTLP JSON
//            lines, rotated as our embedded default's file exporter is: 100 MB, 10 backups)
// Both with the gRPC message limit ours has (64 MiB: an agent's exports are 6-11 MB) and their own metrics on
// a Prometheus endpoint, from which the spans each accepted are read.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { findTool } from '../test/support/tools.js';

export const PEERS = ['jaeger', 'otelcol'] as const;
export type PeerName = (typeof PEERS)[number];

/** `--peer jaeger,otelcol`: the names, checked. */
export function parsePeers(arg: string | undefined): PeerName[] {
  if (arg === undefined) return [];
  const names = arg.split(',').filter(Boolean);
  for (const n of names) if (!(PEERS as readonly string[]).includes(n)) throw new Error(`--peer: ${PEERS.join(' or ')} (comma-separated), got ${n}`);
  return names as PeerName[];
}

const BIN: Record<PeerName, [envVar: string, defaultPath: string]> = {
  jaeger: ['JAEGER_BIN', '.tools/bin/jaeger'],
  otelcol: ['OTELCOL_BIN', '.tools/bin/otelcol'],
};

function config(name: PeerName, grpcPort: number, metricsPort: number, dir: string): string {
  const receivers = { otlp: { protocols: { grpc: { endpoint: `127.0.0.1:${grpcPort}`, max_recv_msg_size_mib: 64 } } } };
  const telemetry = { logs: { level: 'warn' }, metrics: { readers: [{ pull: { exporter: { prometheus: { host: '127.0.0.1', port: metricsPort } } } }] } };
  const exporter = name === 'jaeger' ? 'jaeger_storage_exporter' : 'file';
  const exporters = name === 'jaeger' ? { jaeger_storage_exporter: { trace_storage: 'memstore' } } : { file: { path: path.join(dir, 'telemetry.jsonl'), rotation: { max_megabytes: 100, max_backups: 10 } } };
  const extensions = name === 'jaeger' ? { jaeger_storage: { backends: { memstore: { memory: { max_traces: 100000 } } } } } : {};
  // JSON is YAML: one document, no indentation to get wrong.
  return JSON.stringify({
    receivers,
    processors: { batch: {} },
    exporters,
    extensions,
    service: { extensions: Object.keys(extensions), telemetry, pipelines: { traces: { receivers: ['otlp'], processors: ['batch'], exporters: [exporter] } } },
  });
}

export interface Peer {
  name: PeerName;
  proc: ChildProcess;
  /** Spans its OTLP receiver accepted and refused, its exporter sent, so far. */
  spans(): Promise<{ accepted: number; refused: number; sent: number }>;
  stop(): Promise<void>;
}

const portOpen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

/** Starts the peer with its data in `dir`; resolves once its OTLP port and its metrics answer. */
export async function startPeer(name: PeerName, grpcPort: number, metricsPort: number, dir: string): Promise<Peer> {
  const bin = findTool(...BIN[name]);
  if (!bin) throw new Error(`--peer ${name} needs ${BIN[name][1]}: run .ci/install-tools.sh`);
  const cfg = path.join(dir, `${name}.yaml`);
  writeFileSync(cfg, config(name, grpcPort, metricsPort, dir));
  const proc = spawn(bin, ['--config', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  const metrics = async (): Promise<string> => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const stop = async (): Promise<void> => {
    proc.kill('SIGTERM');
    if (proc.exitCode === null && proc.signalCode === null) await once(proc, 'close');
  };
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null) throw new Error(`${name} exited ${proc.exitCode}:\n${stderr}`);
    if ((await portOpen(grpcPort)) && (await metrics().then(() => true, () => false))) break;
    if (i > 300) {
      await stop();
      throw new Error(`${name} not ready after 30 s:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  // The Prometheus names differ by build (Jaeger's carry `_total`); the counters appear with the first span.
  const sum = (text: string, metric: string): number =>
    [...text.matchAll(new RegExp(`^otelcol_${metric}(?:_total)?\\{[^}]*\\} (\\S+)$`, 'gm'))].reduce((a, m) => a + Number(m[1]), 0);
  return {
    name,
    proc,
    async spans() {
      const t = await metrics();
      return { accepted: sum(t, 'receiver_accepted_spans'), refused: sum(t, 'receiver_refused_spans'), sent: sum(t, 'exporter_sent_spans') };
    },
    stop,
  };
}

/**
 * Bytes of OTLP JSON lines a file exporter wrote into `dir` (telemetry.jsonl and its rotated backups), span
 * lines apart from the others (ours also writes the kernel events' log records there).
 */
export function jsonLinesBytes(dir: string): { spans: number; other: number } {
  const out = { spans: 0, other: 0 };
  for (const f of readdirSync(dir).filter((n) => n.startsWith('telemetry'))) {
    for (const line of readFileSync(path.join(dir, f), 'latin1').split('\n')) {
      if (line.startsWith('{"resourceSpans"')) out.spans += line.length + 1;
      else if (line) out.other += line.length + 1;
    }
  }
  return out;
}
