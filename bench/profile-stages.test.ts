import { describe, expect, it } from 'vitest';
import { NO_STAGE, PEERS_PAY, stagesOf, type Profile, type ProfileNode } from './profile-stages.js';

const D = 'file:///w/dist/';
/** A profile from call paths: each `[samples, frames root-first]` is one leaf sampled that many times, 1 ms apart. */
function profile(paths: [number, [string, string][]][]): Profile {
  const nodes: ProfileNode[] = [{ id: 1, callFrame: { functionName: '(root)', url: '' }, children: [] }];
  const samples: number[] = [];
  for (const [count, frames] of paths) {
    let at = nodes[0]!;
    for (const [functionName, url] of frames) {
      let next = at.children!.map((c) => nodes[c - 1]!).find((n) => n.callFrame.functionName === functionName && n.callFrame.url === url);
      if (!next) {
        next = { id: nodes.length + 1, callFrame: { functionName, url }, children: [] };
        nodes.push(next);
        at.children!.push(next.id);
      }
      at = next;
    }
    for (let i = 0; i < count; i++) samples.push(at.id);
  }
  return { nodes, samples, timeDeltas: samples.map(() => 1000) };
}

describe('profile-stages', () => {
  const ms = stagesOf(
    profile([
      // a Buffer copy made by the gRPC framing is the receiver's
      [3, [['onData', `${D}receiver/otlp/grpc-server.js`], ['push', `${D}receiver/otlp/grpc-frame.js`], ['_copyActual', 'node:buffer']]],
      // an attribute read through a shared pipeline helper under provenance is provenance's, not receive's
      [5, [['deliver', `${D}receiver/otlp/intake.js`], ['consumeTraces', `${D}processors/provenance/provenance-processor.js`], ['get', `${D}pipeline/id-table.js`]]],
      // the JSON writer under the file exporter, on a timer: write, spans
      [7, [['listOnTimeout', 'node:internal/timers'], ['consume', `${D}exporters/file/file-exporter.js`], ['appendTracesJson', `${D}pipeline/otlp/json-writer.js`]]],
      // the same writer writing log records: write, kernel events
      [2, [['consume', `${D}exporters/file/file-exporter.js`], ['appendLogsJson', `${D}pipeline/otlp/json-writer.js`]]],
      [4, [['poll', `${D}receiver/ebpf/ebpf-receiver.js`], ['consumeLogs', `${D}processors/correlate/correlate-processor.js`]]],
      [6, [['(garbage collector)', '']]],
      [9, [['(idle)', '']]],
      [1, [['compileSourceTextModule', 'node:internal/modules/esm/utils']]],
    ]),
  );
  const at = (stage: string, signal: string): number => ms.get(stage)?.get(signal) ?? 0;

  it('gives a sample to the nearest stage on its stack, skipping shared helpers and Node internals', () => {
    expect(at('receive (gRPC, decode, arrival check)', 'spans')).toBe(3);
    expect(at('provenance', 'spans')).toBe(5);
    expect(at('write (file exporter, JSON)', 'spans')).toBe(7);
    expect(at('write (file exporter, JSON)', 'kernel events')).toBe(2);
    expect(at('correlate', 'kernel events')).toBe(4);
    expect(at('(garbage collector)', 'other')).toBe(6);
    expect(at(NO_STAGE, 'other')).toBe(1);
  });

  it('leaves idle out and counts every other sample once', () => {
    const total = [...ms.values()].reduce((a, row) => a + [...row.values()].reduce((b, x) => b + x, 0), 0);
    expect(total).toBe(28);
  });

  it('marks receive, batch and write as what a peer collector also does', () => {
    expect([...PEERS_PAY]).toEqual(['receive (gRPC, decode, arrival check)', 'batch', 'write (file exporter, JSON)']);
  });
});
