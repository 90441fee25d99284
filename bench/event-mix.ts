/**
 * What the reference agent's kernel events are, and how far they could be grouped before correlate: one
 * run of the JS agent's `attack` scenario (`--runs` times in one process, fake LLM and services on loopback,
 * as `sensor-overhead.js agent` runs it) watched by the real sensor, then
 * - the events by kind and by process, in 250 ms steps from the agent's exec (where in the run they come),
 * - how many opens the built-in fold rules (processors/correlate/fold.ts) call plumbing,
 * - the units they would make if consecutive opens of one process under one rule and root, with no other
 *   event of that process between them and at most G ms apart, were held as one (G = 1, 5, 20, 100 ms),
 * - and what correlate holds of them: the events made into records by receiver/ebpf's LogsBuilder, in
 *   batches of 200 ms of their time (the receiver's poll and batch timeout), held by a CorrelateProcessor
 *   with no span to match: its held items (events, and runs of opens held as one) against the events.
 * A script, root (the sensor):
 *
 *   npx tsc -p tsconfig.build.json && node dist/bench/event-mix.js [--runs 20]
 *
 * The agent is found by an environment marker of its own (`AIBOM_EVENT_MIX`), not the embedded default's
 * provider keys, so other agents on the machine stay out of the figures.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDefaultConfig } from '../processors/correlate/config.js';
import { CorrelateProcessor } from '../processors/correlate/correlate-processor.js';
import { defaultFoldConfig, Folder } from '../processors/correlate/fold.js';
import type { HeldEvents } from '../processors/correlate/kernel-event.js';
import { createContainerResolver } from '../receiver/ebpf/container.js';
import { LogsBuilder, nsToLong } from '../receiver/ebpf/convert.js';
import { silentLogger } from '../pipeline/telemetry/logger.js';
import { Metrics } from '../pipeline/telemetry/metrics.js';
import type { SensorEvent } from '../receiver/ebpf/frame-decoder.js';
import { SensorProcess } from '../receiver/ebpf/sensor-process.js';
import { attackAgentEnv, startListening } from './test-app.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const APPS = path.join(root, 'test/apps');
const SENSOR = process.env.AIBOM_SENSOR ?? path.join(root, 'bpf/.output/aibom-sensor');
const MARKER = 'AIBOM_EVENT_MIX';
const STEP_MS = 250;
const GAPS_MS = [1, 5, 20, 100];

const argv = process.argv.slice(2);
const runs = ((i) => (i >= 0 ? Number(argv[i + 1]) : 20))(argv.indexOf('--runs'));

async function record(): Promise<SensorEvent[]> {
  const events: SensorEvent[] = [];
  const sensor = new SensorProcess({
    path: SENSOR,
    args: [`--env-marker=${MARKER}`, '--no-default-env-markers'],
    onRecords: (records) => {
      for (const r of records) if ('ktimeNs' in r && r.kind !== 'stats') events.push(r as SensorEvent);
    },
  });
  const llm = await startListening(APPS, [path.join(APPS, 'fake-llm/server.mjs'), '--port', '0']);
  const svc = await startListening(APPS, [path.join(APPS, 'services.mjs')]);
  try {
    await sensor.ready;
    // A node binary of its own name, as the bench's agent runs.
    const agent = path.join(mkdtempSync(path.join(tmpdir(), 'event-mix-')), 'aibom-bench-js');
    symlinkSync(process.execPath, agent);
    const env = { ...attackAgentEnv(llm, svc, runs), [MARKER]: '1' };
    const p = spawn(agent, [path.join(APPS, 'agent-js/agent.mjs')], { cwd: APPS, env, stdio: ['ignore', 'ignore', 'inherit'] });
    const [code] = (await once(p, 'close')) as [number | null];
    if (code !== 0) throw new Error(`agent exited ${code}`);
    await new Promise((r) => setTimeout(r, 1500)); // a poll and the ring drained
  } finally {
    await sensor.stop();
    llm.proc.kill();
    svc.proc.kill();
  }
  return events;
}

function countBy<T>(xs: readonly T[], key: (x: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of xs) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
  return m;
}

const ms = (ns: bigint): number => Number(ns / 1000n) / 1000;

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('needs root (the sensor)');
  const events = await record();
  if (events.length === 0) throw new Error('no events: was the agent watched?');
  const folder = new Folder(defaultFoldConfig());
  const foldKey = (ev: SensorEvent): string | undefined => {
    if (ev.kind !== 'open') return undefined;
    const f = folder.classify(ev.path, ev.pid, ev.credential, ev.ret < 0 ? String(-ev.ret) : undefined);
    return f ? `${f.rule.name}|${f.root}` : undefined;
  };
  const t0 = ms(events[0]!.ktimeNs);
  console.log(`event-mix: the JS agent, ${runs} x attack in one process (+ MCP children), watched by the sensor; ${events.length} events`);
  console.log(`by kind: ${[...countBy(events, (e) => e.kind)].map(([k, n]) => `${k} ${n}`).join(', ')}`);
  console.log(`| pid, kind | events per ${STEP_MS} ms from the first event (start ms: count) |`);
  console.log('|---|---|');
  for (const [key, n] of countBy(events, (e) => `${e.pid} ${e.kind}`)) {
    const steps = countBy(
      events.filter((e) => `${e.pid} ${e.kind}` === key),
      (e) => String(Math.floor((ms(e.ktimeNs) - t0) / STEP_MS) * STEP_MS),
    );
    console.log(`| ${key} (${n}) | ${[...steps].map(([s, c]) => `${s}: ${c}`).join(', ')} |`);
  }
  const opens = events.filter((e) => e.kind === 'open');
  console.log(`opens: ${opens.length}, plumbing by the built-in fold rules: ${opens.filter((e) => foldKey(e) !== undefined).length}`);
  for (const gap of GAPS_MS) {
    // The open run each process is in: its rule and root, and its last open's time.
    const runOf = new Map<number, { key: string; lastMs: number }>();
    let units = 0;
    for (const ev of events) {
      const key = foldKey(ev);
      const run = runOf.get(ev.pid);
      const t = ms(ev.ktimeNs);
      if (key !== undefined && run?.key === key && t - run.lastMs <= gap) {
        run.lastMs = t;
        continue;
      }
      units++;
      if (key === undefined) runOf.delete(ev.pid);
      else runOf.set(ev.pid, { key, lastMs: t });
    }
    console.log(`open runs <= ${gap} ms apart held as one: ${units} units for ${events.length} events (${(events.length / units).toFixed(1)}x fewer)`);
  }
  const held = await heldByCorrelate(events);
  console.log(`correlate holds: ${held.items} items for ${held.events} events (${(held.events / held.items).toFixed(1)}x fewer), ${held.runs} of them runs of opens`);
}

/** What correlate holds of the events, batched as the receiver batches them, with no span to place them under. */
async function heldByCorrelate(events: readonly SensorEvent[]): Promise<{ events: number; items: number; runs: number }> {
  const nothing = { consume: async () => undefined };
  const p = new CorrelateProcessor({ id: 'correlate', name: '', logger: silentLogger(), metrics: new Metrics() }, createDefaultConfig(), { traces: nothing, logs: nothing }, () => 0);
  const builder = new LogsBuilder({ capturePayload: false, containers: createContainerResolver({ procRoot: '/nonexistent' }), processCacheSize: 16_384, readProc: false, hostName: 'event-mix', scopeVersion: 'bench' });
  const BATCH_NS = 200_000_000n;
  let batchEnd = events[0]!.ktimeNs + BATCH_NS;
  for (const ev of events) {
    if (ev.ktimeNs >= batchEnd && builder.count > 0) {
      await p.logs.consume(builder.take());
      batchEnd = ev.ktimeNs + BATCH_NS;
    }
    const now = nsToLong(ev.timeUnixNano ?? 0n);
    builder.add(ev, now, now);
  }
  if (builder.count > 0) await p.logs.consume(builder.take());
  // The processor's held events (private: a bench's look inside).
  const held = (p as unknown as { held: HeldEvents }).held;
  const items = held.runs.flatMap((r) => r.items);
  return { events: held.size, items: items.length, runs: items.filter((h) => h.size > 1).length };
}

await main();
