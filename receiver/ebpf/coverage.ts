// Why and since when each monitored process is watched, and whether the sensor saw it from its start
// (Kubescape-style completeness: a profile built from a partial process is partial, with the reason).
// Fed by the sensor's monitor records (roots: env marker or comm at exec, running processes added by the
// start-up scan, --pid/+pid, and their existing descendants) and by fork events (children inherit);
// read as resource attributes of every kernel record. Bounded: entries go when the process exits, and
// beyond `max` the oldest.

import { BoundedMap } from '../../pipeline/bounded-map.js';
import type { KeyValue } from '../../pipeline/otlp/types.js';
import { ATTR } from '../../pipeline/semconv.js';
import { nsToLong } from './convert.js';
import type { MonitorRecord } from './frame-decoder.js';

/** Why a process is watched. */
export type CoverageReason = 'env_marker' | 'comm' | 'pid' | 'discovered' | 'inherited' | 'shadow';
/** What makes a process's coverage partial. */
export type PartialReason = 'started_before_sensor' | 'discovered_from_telemetry' | 'added_while_running' | 'sensor_gap';

export interface Coverage {
  readonly reason: CoverageReason;
  readonly partialReason: PartialReason | undefined;
  readonly sinceUnixNano: bigint;
  readonly marker: string;
  /** The resource attributes that say all of this, built once. */
  readonly attributes: readonly KeyValue[];
}

function coverage(reason: CoverageReason, partialReason: PartialReason | undefined, sinceUnixNano: bigint, marker: string): Coverage {
  const attributes: KeyValue[] = [
    { key: ATTR.monitorReason, value: { stringValue: reason } },
    { key: ATTR.monitorCoverage, value: { stringValue: partialReason ? 'partial' : 'complete' } },
    { key: ATTR.monitorSince, value: { intValue: nsToLong(sinceUnixNano) } },
  ];
  if (partialReason) attributes.push({ key: ATTR.monitorPartialReason, value: { stringValue: partialReason } });
  if (marker) attributes.push({ key: reason === 'shadow' ? ATTR.monitorShadowMatch : ATTR.monitorEnvMarker, value: { stringValue: marker } });
  return { reason, partialReason, sinceUnixNano, marker, attributes };
}

export class CoverageTable {
  private readonly byPid: BoundedMap<number, Coverage>;
  /** Pids the receiver asked the sensor to watch because their telemetry arrived. */
  private readonly announced = new Set<number>();

  constructor(private readonly max: number) {
    this.byPid = new BoundedMap(max);
  }

  get size(): number {
    return this.byPid.size;
  }

  get(pid: number): Coverage | undefined {
    return this.byPid.get(pid);
  }

  /** Resource attributes for a process's kernel records; undefined when the sensor did not say (cgroup or --all rules). */
  attributes(pid: number): readonly KeyValue[] | undefined {
    return this.byPid.get(pid)?.attributes;
  }

  /** Called before `+pid N` is sent for a process recognised from its telemetry. */
  discovered(pid: number): void {
    this.announced.add(pid);
    if (this.announced.size > this.max) this.announced.delete(this.announced.values().next().value as number);
  }

  monitor(r: MonitorRecord, nowNs: bigint): void {
    const since = r.sinceUnixNano ?? nowNs;
    // Monitoring that begins at an exec is a new fact about a new image; otherwise the first word stands
    // (a discovered agent that was watched from its exec stays complete).
    if (r.partial && this.byPid.has(r.pid)) return;
    let reason: CoverageReason = r.reason;
    let partial: PartialReason | undefined;
    if (r.partial) {
      if (r.reason === 'pid' && this.announced.has(r.pid)) {
        reason = 'discovered';
        partial = 'discovered_from_telemetry';
      } else if (r.reason === 'inherited') {
        partial = this.byPid.get(r.ppid)?.partialReason ?? (r.atStart ? 'started_before_sensor' : 'added_while_running');
      } else {
        partial = r.atStart ? 'started_before_sensor' : 'added_while_running';
      }
    }
    this.set(r.pid, coverage(reason, partial, since, r.marker));
  }

  /** A child forked by a watched process is watched from its first instruction. */
  fork(parent: number, child: number, timeUnixNano: bigint | undefined, nowNs: bigint): void {
    if (!this.byPid.has(parent) || this.byPid.has(child)) return;
    this.set(child, coverage('inherited', undefined, timeUnixNano ?? nowNs, ''));
  }

  exit(pid: number): void {
    this.byPid.delete(pid);
    this.announced.delete(pid);
  }

  /** The sensor was down for a while: nothing watched then is complete any more. */
  gap(): void {
    for (const [pid, c] of this.byPid) {
      if (!c.partialReason) this.byPid.set(pid, coverage(c.reason, 'sensor_gap', c.sinceUnixNano, c.marker));
    }
  }

  private set(pid: number, c: Coverage): void {
    this.byPid.delete(pid);
    this.byPid.set(pid, c);
  }
}
