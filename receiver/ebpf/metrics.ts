// The receiver's /metrics: what arrived, what the kernel counted (mirrored from the sensor's stats frames
// as deltas), what the decoder skipped, what was dropped and why, lag and restarts. Registered once per
// Metrics registry and shared by every ebpf receiver instance (label `component`).

import client from 'prom-client';
import type { Metrics } from '../../pipeline/telemetry/metrics.js';
import { EVENT_KINDS, type EventKind, type FrameDecoderCounters, type StatsRecord, type TypeCounters } from './frame-decoder.js';
import { LagHistogram } from './lag-histogram.js';

export type DropReason = 'pipeline_full' | 'permanent_error' | 'shutdown' | 'self';

function counter<L extends string>(m: Metrics, name: string, help: string, labels: readonly L[]): client.Counter<L> {
  return (m.registry.getSingleMetric(name) as client.Counter<L> | undefined) ?? m.counter(name, help, labels);
}
function gauge<L extends string>(m: Metrics, name: string, help: string, labels: readonly L[]): client.Gauge<L> {
  return (m.registry.getSingleMetric(name) as client.Gauge<L> | undefined) ?? m.gauge(name, help, labels);
}

export const LAG_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const LAG_NAME = 'aibom_ebpf_event_lag_seconds';

function registered(m: Metrics, h: LagHistogram): LagHistogram {
  m.registry.registerMetric(h as unknown as client.Metric);
  return h;
}

/**
 * What one receiver counts per chunk in plain numbers (events by kind, the chunk's largest lag, pending
 * events), written into the shared metrics when they are read (prom-client's `collect`, at scrape) and at
 * the receiver's shutdown: a prom-client write hashes and validates its labels, several per chunk.
 */
export class ChunkTally {
  /** Events per kind since the last write. */
  readonly kinds = Object.fromEntries(EVENT_KINDS.map((k) => [k, 0])) as Record<EventKind, number>;
  /** The last chunk's largest lag in seconds; < 0 before the first chunk. */
  lagMax = -1;

  constructor(
    readonly component: string,
    /** Events batched or waiting for the next consumer, now. */
    readonly pending: () => number,
  ) {}
}

/** The tallies of the receivers whose metrics live in a registry. */
const talliesOf = new WeakMap<client.Registry, Set<ChunkTally>>();

export class EbpfMetrics {
  readonly received: client.Counter<'component' | 'kind'>;
  readonly sent: client.Counter<'component'>;
  readonly dropped: client.Counter<'component' | 'reason'>;
  readonly pending: client.Gauge<'component'>;
  readonly kernelEvents: client.Counter<'component' | 'type' | 'outcome'>;
  readonly kernelFiltered: client.Counter<'component' | 'reason'>;
  readonly decoder: client.Counter<'component' | 'counter'>;
  readonly lag: LagHistogram;
  readonly lagMax: client.Gauge<'component'>;
  readonly restarts: client.Counter<'component'>;
  readonly up: client.Gauge<'component'>;
  readonly monitoredPids: client.Gauge<'component'>;
  readonly uprobeTargets: client.Gauge<'component'>;
  readonly clockSkew: client.Gauge<'component'>;
  readonly socketRefused: client.Counter<'component' | 'reason'>;

  private readonly tallies: Set<ChunkTally>;

  constructor(m: Metrics) {
    let tallies = talliesOf.get(m.registry);
    if (!tallies) talliesOf.set(m.registry, (tallies = new Set()));
    this.tallies = tallies;
    const all = tallies;
    this.received =
      (m.registry.getSingleMetric('aibom_ebpf_events_received_total') as client.Counter<'component' | 'kind'> | undefined) ??
      new client.Counter({
        name: 'aibom_ebpf_events_received_total',
        help: 'Kernel events decoded from the sensor stream, by kind.',
        labelNames: ['component', 'kind'],
        registers: [m.registry],
        collect() {
          for (const t of all) writeReceived(this, t);
        },
      });
    this.sent = counter(m, 'aibom_ebpf_log_records_sent_total', 'Log records (events and gap records) the next consumer accepted.', ['component']);
    this.dropped = counter(m, 'aibom_ebpf_dropped_events_total', 'Events dropped in the receiver, by reason (pipeline_full, permanent_error, shutdown, self).', ['component', 'reason']);
    this.pending = talliedGauge(m, 'aibom_ebpf_pending_events', 'Events batched or waiting for the next consumer.', all, (t) => t.pending());
    this.kernelEvents = counter(m, 'aibom_ebpf_kernel_events_total', "The sensor's per-type counters: attempted (passed the filters), emitted, ring_drop (ring buffer full), deduped, helper_error.", ['component', 'type', 'outcome']);
    this.kernelFiltered = counter(m, 'aibom_ebpf_kernel_filtered_total', 'Events the kernel filtered out before the ring buffer, by reason.', ['component', 'reason']);
    this.decoder = counter(m, 'aibom_ebpf_decoder_errors_total', 'Frame decoder problems: bytes_skipped, frames_rejected, resyncs, seq_gaps.', ['component', 'counter']);
    this.lag = (m.registry.getSingleMetric(LAG_NAME) as unknown as LagHistogram | undefined) ?? registered(m, new LagHistogram(LAG_NAME, 'Time from the kernel event to its decoding in the receiver.', 'component', LAG_BUCKETS));
    this.lagMax = talliedGauge(m, 'aibom_ebpf_event_lag_max_seconds', 'Largest event lag in the last decoded chunk.', all, (t) => (t.lagMax >= 0 ? t.lagMax : undefined));
    this.restarts = counter(m, 'aibom_ebpf_sensor_restarts_total', 'Sensor restarts after a crash (spawn) or reconnects (socket).', ['component']);
    this.up = gauge(m, 'aibom_ebpf_sensor_up', '1 while a sensor is connected and ready.', ['component']);
    this.monitoredPids = gauge(m, 'aibom_ebpf_sensor_monitored_pids', 'Processes the sensor monitors (last stats frame).', ['component']);
    this.uprobeTargets = gauge(m, 'aibom_ebpf_sensor_uprobe_targets', 'Binaries with OpenSSL uprobes attached (last stats frame).', ['component']);
    this.socketRefused = counter(m, 'aibom_ebpf_socket_refused_total', 'Connections to the sensor socket refused: peer_uid (not root or socket.sensor_uid), peer_unknown (credentials unreadable).', ['component', 'reason']);
    this.clockSkew = gauge(m, 'aibom_ebpf_clock_skew_seconds', "Sensor's realtime clock at stream start minus the receiver's clock when the header arrived.", ['component']);
  }

  /** A receiver's tally, read with the metrics until `release`. */
  tally(component: string, pending: () => number): ChunkTally {
    const t = new ChunkTally(component, pending);
    this.tallies.add(t);
    return t;
  }

  /** Writes what `t` holds one last time and stops reading it (the receiver stopped). */
  release(t: ChunkTally): void {
    writeReceived(this.received, t);
    this.pending.set({ component: t.component }, t.pending());
    if (t.lagMax >= 0) this.lagMax.set({ component: t.component }, t.lagMax);
    this.tallies.delete(t);
  }
}

/** A gauge per receiver whose value `read` takes from its tally when the gauge is read (undefined: not set). */
function talliedGauge(m: Metrics, name: string, help: string, tallies: Set<ChunkTally>, read: (t: ChunkTally) => number | undefined): client.Gauge<'component'> {
  return (
    (m.registry.getSingleMetric(name) as client.Gauge<'component'> | undefined) ??
    new client.Gauge({
      name,
      help,
      labelNames: ['component'],
      registers: [m.registry],
      collect() {
        for (const t of tallies) {
          const v = read(t);
          if (v !== undefined) this.set({ component: t.component }, v);
        }
      },
    })
  );
}

function writeReceived(received: client.Counter<'component' | 'kind'>, t: ChunkTally): void {
  for (const kind of EVENT_KINDS) {
    const n = t.kinds[kind];
    if (n > 0) {
      received.inc({ component: t.component, kind }, n);
      t.kinds[kind] = 0;
    }
  }
}

const OUTCOMES: readonly [keyof TypeCounters, string][] = [
  ['attempted', 'attempted'],
  ['emitted', 'emitted'],
  ['rbDrops', 'ring_drop'],
  ['deduped', 'deduped'],
  ['helperErrors', 'helper_error'],
];

const DECODER_COUNTERS: readonly [keyof FrameDecoderCounters, string][] = [
  ['bytesSkipped', 'bytes_skipped'],
  ['framesRejected', 'frames_rejected'],
  ['resyncs', 'resyncs'],
  ['seqGaps', 'seq_gaps'],
];

/**
 * Turns the sensor's cumulative counters (per sensor run) into counter increments. `reset()` at every new
 * sensor run: its counters start from zero again.
 */
export class StatsMirror {
  private last = new Map<string, number>();
  private lastDecoder: Partial<FrameDecoderCounters> = {};

  constructor(
    private readonly m: EbpfMetrics,
    private readonly component: string,
  ) {}

  reset(): void {
    this.last = new Map();
    this.lastDecoder = {};
  }

  private delta(key: string, value: number): number {
    const prev = this.last.get(key) ?? 0;
    this.last.set(key, value);
    return value >= prev ? value - prev : value;
  }

  stats(s: StatsRecord): void {
    const component = this.component;
    for (const type of Object.keys(s.perType) as EventKind[]) {
      const c = s.perType[type];
      for (const [field, outcome] of OUTCOMES) {
        const d = this.delta(`${type}.${field}`, c[field]);
        if (d > 0) this.m.kernelEvents.inc({ component, type, outcome }, d);
      }
    }
    const f: [string, number][] = [
      ['not_monitored', s.filtered.notMonitored],
      ['path_ignored', s.filtered.pathIgnored],
      ['not_interesting', s.filtered.notInteresting],
      ['no_signature', s.filtered.noSignature],
    ];
    for (const [reason, v] of f) {
      const d = this.delta(`filtered.${reason}`, v);
      if (d > 0) this.m.kernelFiltered.inc({ component, reason }, d);
    }
    this.m.monitoredPids.set({ component }, s.monitoredPids);
    this.m.uprobeTargets.set({ component }, s.uprobeTargets);
  }

  /** Called once per decoded chunk (an indexed loop: an iterator and a destructured pair per counter were garbage per chunk). */
  decoder(c: Readonly<FrameDecoderCounters>): void {
    for (let i = 0; i < DECODER_COUNTERS.length; i++) {
      // Indexed, not destructured: an array pattern goes through the iterator protocol (a result per element, per chunk).
      const field = DECODER_COUNTERS[i]![0];
      const label = DECODER_COUNTERS[i]![1];
      const prev = this.lastDecoder[field] ?? 0;
      const v = c[field];
      if (v > prev) this.m.decoder.inc({ component: this.component, counter: label }, v - prev);
      this.lastDecoder[field] = v;
    }
  }
}
