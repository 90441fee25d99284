// Kernel events -> OTLP log records, one ResourceLogs per process in a batch. Hot path: one LogRecord
// and its attribute list per event; resource attributes are built once per process per batch, exec info
// and container identity come from bounded caches.

import { hostname } from 'node:os';
import Long from 'long';
import { readMachineId } from '../../pipeline/machine-id.js';
import { readProcessImage } from '../../pipeline/process-identity.js';
import { redactArgs, redactSecrets } from '../../pipeline/redact.js';
import { anyValue } from '../../pipeline/otlp/attributes.js';
import type { KeyValue, LogRecord, LogsData, ResourceLogs } from '../../pipeline/otlp/types.js';
import { markKernelRecord, writeKernelEvent } from '../../pipeline/kernel-event/index.js';
import { ATTR, KERNEL_SCOPE, SENSOR_SCOPE } from '../../pipeline/semconv.js';
import type { ContainerResolver } from './container.js';
import { DecodedEvent } from './decoded-event.js';
import { kv } from './event-record.js';
import type { SensorEvent } from './frame-decoder.js';
import { parseWire, requestModel } from './wire-parse.js';
import { BoundedMap } from '../../pipeline/bounded-map.js';

export const SEVERITY_WARN = 13;

const PRIMED_MAX = 4096;

/** LogRecord.eventName of the record that marks a period without kernel data. */
export const SENSOR_GAP_EVENT = 'aibom.sensor.gap';
/** Attributes of the gap record (aibom.*: no semantic convention exists). */
export const GAP_ATTR = {
  start: 'aibom.sensor.gap.start_unix_nano',
  end: 'aibom.sensor.gap.end_unix_nano',
  durationMs: 'aibom.sensor.gap.duration_ms',
  exitCode: 'aibom.sensor.exit_code',
  exitSignal: 'aibom.sensor.exit_signal',
  restartCount: 'aibom.sensor.restart_count',
  reason: 'aibom.sensor.gap.reason',
} as const;

/** Exact 64-bit unsigned nanoseconds without a decimal round trip. */
export function nsToLong(ns: bigint): Long {
  return Long.fromBits(Number(ns & 0xffffffffn), Number((ns >> 32n) & 0xffffffffn), true);
}

/**
 * Epoch milliseconds (an integer) as nanoseconds in a Long, without BigInts (five per chunk before): the
 * product passes 2^53, so it is made from the milliseconds' 32-bit words, each product exact.
 */
export function msToLong(ms: number): Long {
  const msHigh = Math.floor(ms / 0x1_0000_0000);
  const lowNs = (ms - msHigh * 0x1_0000_0000) * 1e6; // < 2^52
  const carry = Math.floor(lowNs / 0x1_0000_0000);
  return Long.fromBits(lowNs - carry * 0x1_0000_0000, msHigh * 1e6 + carry, true);
}

interface ExecInfo {
  path: string | undefined;
  args: readonly string[] | undefined;
  /** Bumped on every exec, so a batch starts a new ResourceLogs for the new image. */
  generation: number;
  /** The builder's insert count when this entry was last put at the end of the cache (see `touch`). */
  insertedAt: number;
  /** This process's group in the batch `groupBatch` (the builder's batch count), unless it exec'd since. */
  group: Group | undefined;
  groupBatch: number;
}

/** One shape for every entry. */
const execInfo = (path?: string, args?: readonly string[]): ExecInfo => ({ path, args, generation: 0, insertedAt: 0, group: undefined, groupBatch: -1 });

export interface ConverterOptions {
  capturePayload: boolean;
  containers: ContainerResolver;
  processCacheSize: number;
  /** Read /proc/<pid>/exe and cmdline for processes first seen without an exec event (default true). */
  readProc?: boolean;
  hostName?: string;
  scopeVersion: string;
  /** Coverage facts of a process (`aibom.monitor.*`), added to its resource. */
  coverage?: (pid: number) => readonly KeyValue[] | undefined;
}

interface Group {
  resource: ResourceLogs;
  records: LogRecord[];
}

/**
 * Accumulates events into one LogsData. `add` per event, `take` to hand the batch over (the builder then
 * starts empty). The pid -> exec-info cache survives batches (bounded, least recently used evicted).
 */
export class LogsBuilder {
  private groups = new Map<string, Group>();
  private list: ResourceLogs[] = [];
  private n = 0;
  private readonly execInfo: BoundedMap<number, ExecInfo>;
  private readonly primed = new BoundedMap<number, ExecInfo>(PRIMED_MAX);
  private readonly host: string;
  /** `host.id`: the machine-id, as the agents' SDKs report it. */
  private readonly hostId = readMachineId();
  private readonly readProc: boolean;
  /** Entries put at the end of `execInfo` so far, and batches taken so far. */
  private inserts = 0;
  private batch = 0;
  private readonly refreshAfter: number;

  constructor(private readonly opts: ConverterOptions) {
    this.host = opts.hostName ?? hostname();
    this.readProc = opts.readProc ?? true;
    this.execInfo = new BoundedMap(opts.processCacheSize);
    this.refreshAfter = Math.max(1, Math.floor(opts.processCacheSize / 2));
  }

  get count(): number {
    return this.n;
  }

  get cachedProcesses(): number {
    return this.execInfo.size;
  }

  /** Hands over the batch built so far (the caller owns it) and starts a new one. */
  take(): LogsData {
    const data: LogsData = { resourceLogs: this.list };
    this.list = [];
    this.groups = new Map();
    this.batch++;
    this.n = 0;
    return data;
  }

  /**
   * Reads exe path and args of a process now, while it surely exists (pids named in config or added at
   * runtime, before the sensor watches them). Used only if the process is gone by the time its first event
   * is converted: a read at that time is preferred, since the process may exec (e.g. a pyenv shim) before
   * the sensor watches it, and that exec is never reported.
   */
  prime(pid: number): void {
    if (!this.readProc || this.execInfo.has(pid)) return;
    const info = execInfo();
    readProcInfo(pid, info);
    this.primed.set(pid, info);
  }

  /**
   * A process that ran before the sensor began watching it (a monitor record): its exe and args are read
   * now, when the record arrives. From here on every exec it makes is an event that replaces them, so no
   * later read is needed; a later one would miss a process that exits before a poll delivers its first
   * event (gone, or a zombie without exe link and cmdline).
   */
  watched(pid: number): void {
    if (!this.readProc || this.execInfo.has(pid)) return;
    const info = execInfo();
    readProcInfo(pid, info);
    if (info.path === undefined) return; // gone already: the first event tries again, then what prime read
    this.primed.delete(pid);
    this.keep(pid, info);
  }

  /** Puts `info` at the end of the cache (the newest entry), stamped with the insert count. */
  private keep(pid: number, info: ExecInfo): void {
    info.insertedAt = ++this.inserts;
    this.execInfo.set(pid, info);
  }

  private touch(pid: number, isExec: boolean): ExecInfo {
    let info = this.execInfo.get(pid);
    if (info) {
      // Least recently used first out, nearly: an entry put at the end fewer than half the bound's inserts
      // ago has more than half the bound's entries before it, so it is not the next one out, and is left in
      // place. Moving it to the end on every event was a delete and an insert per event while a poll's
      // events interleave a few processes.
      if (this.inserts - info.insertedAt < this.refreshAfter) return info;
      this.execInfo.delete(pid);
    } else {
      info = execInfo();
      if (this.readProc && !isExec) {
        readProcInfo(pid, info);
        // Gone, or exiting (a zombie has no exe link and an empty cmdline): what was read when it was added.
        const primed = this.primed.get(pid);
        if (primed && info.path === undefined) info = primed;
      }
      this.primed.delete(pid);
    }
    this.keep(pid, info);
    return info;
  }

  private group(ev: DecodedEvent, info: ExecInfo): Group {
    if (info.groupBatch === this.batch && info.group !== undefined) return info.group;
    const key = `${ev.pid}/${info.generation}`;
    let g = this.groups.get(key);
    if (g) return this.remember(g, info);
    const attributes: KeyValue[] = [
      ...this.hostAttributes,
      kv(ATTR.serviceName, `unknown_service:${ev.comm}`),
      kv(ATTR.processPid, ev.pid),
      kv(ATTR.processParentPid, ev.ppid),
      kv(ATTR.processExecutableName, ev.comm),
      kv(ATTR.processUserId, ev.uid),
    ];
    if (info.path !== undefined) attributes.push(kv(ATTR.processExecutablePath, info.path));
    if (info.args !== undefined) attributes.push({ key: ATTR.processCommandArgs, value: anyValue(info.args) });
    const c = this.opts.containers.resolve(ev.cgroupId, ev.pid);
    if (c.containerId) attributes.push(kv(ATTR.containerId, c.containerId));
    if (c.podUid) attributes.push(kv(ATTR.k8sPodUid, c.podUid));
    if (c.podName) attributes.push(kv(ATTR.k8sPodName, c.podName));
    if (c.namespace) attributes.push(kv(ATTR.k8sNamespaceName, c.namespace));
    const cov = this.opts.coverage?.(ev.pid);
    if (cov) attributes.push(...cov);
    const resource: ResourceLogs = {
      resource: { attributes },
      scopeLogs: [{ scope: { name: KERNEL_SCOPE, version: this.opts.scopeVersion }, logRecords: [] }],
    };
    g = { resource, records: resource.scopeLogs[0]!.logRecords };
    this.groups.set(key, g);
    this.list.push(resource);
    return this.remember(g, info);
  }

  private remember(g: Group, info: ExecInfo): Group {
    info.group = g;
    info.groupBatch = this.batch;
    return g;
  }

  /**
   * Appends one event; `observed` is the receive time (one Long per chunk, shared). The builder takes the
   * event, which becomes its record's facts and source (`DecodedEvent`): an exec's args are replaced by
   * their redacted form and a TLS or HTTP event's data is dropped once read, in place.
   */
  add(event: SensorEvent, observed: Long, fallbackTime: Long): void {
    const ev = DecodedEvent.of(event);
    // Command lines carry API keys and passwords: nothing downstream ever sees them unredacted.
    if (ev.kind === 'exec') {
      const args = redactArgs(ev.args);
      if (args !== ev.args) ev.args = args;
    }
    const info = this.touch(ev.pid, ev.kind === 'exec');
    if (ev.kind === 'exec') {
      info.path = ev.filename;
      info.args = ev.args;
      info.generation++;
      info.group = undefined; // a new image: a new ResourceLogs
    }
    // A child runs its parent's image until it execs (which is an event of its own): no /proc read, and
    // none that a child exiting before the next poll would lose. The pid is new, whatever was cached for it.
    if (ev.kind === 'fork') {
      const child = ev.childPid!;
      this.execInfo.delete(child);
      if (info.path !== undefined) this.keep(child, execInfo(info.path, info.args));
    }
    const g = this.group(ev, info);
    g.records.push(this.record(ev, observed, fallbackTime));
    this.n++;
    // Pids are reused: forget the process once it is gone (the record above already has its resource).
    if (ev.kind === 'exit') this.execInfo.delete(ev.pid);
  }

  /**
   * A record about the sensor itself (gap), under its own resource and scope, marked as made here: it is
   * not a kernel event, so processors that consume kernel events pass it on to the exporters.
   */
  addRecord(resourceAttributes: KeyValue[], record: LogRecord): void {
    this.list.push({
      resource: { attributes: resourceAttributes },
      scopeLogs: [{ scope: { name: SENSOR_SCOPE, version: this.opts.scopeVersion }, logRecords: [markKernelRecord(record)] }],
    });
    this.n++;
  }

  /** `host.name` and, when known, `host.id`: the resource attributes that say which host this is. */
  get hostAttributes(): KeyValue[] {
    const a = [kv(ATTR.hostName, this.host)];
    if (this.hostId !== undefined) a.push(kv(ATTR.hostId, this.hostId));
    return a;
  }

  private record(ev: DecodedEvent, observed: Long, fallbackTime: Long): LogRecord {
    if (ev.kind === 'tls' || ev.kind === 'http') {
      const data = ev.data;
      const w = parseWire(data);
      // A request body's model: what a shadow client (or any watched one) asks for.
      const model = ev.kind === 'tls' && ev.direction === 'read' ? undefined : requestModel(data);
      const payloadText = this.opts.capturePayload ? redactSecrets(data.toString('utf8')) : undefined;
      const traceparent =
        w?.traceId === undefined ? undefined : { traceId: w.traceId, spanId: w.spanId!, source: w.traceparentSource === 'mcp_meta' ? 'mcp_meta' : ev.kind };
      ev.wireFacts = { w, model, payloadText, traceparent };
      // The attributes are made from the event later, if ever: without its data, a copy of up to a page.
      ev.data = NO_DATA;
    }
    ev.target = targetOf(ev);
    return writeKernelEvent(ev.kind, ev.timeHigh < 0 ? fallbackTime : Long.fromBits(ev.timeLow, ev.timeHigh, true), observed, ev);
  }
}

const NO_DATA = Buffer.alloc(0);

/**
 * What the event acted on, as `readKernelEvent` reads it from the attributes `eventAttributes` makes (the
 * kernel-event contract test in convert-facts.test.ts holds the two to each other, kind by kind).
 */
function targetOf(ev: DecodedEvent): string {
  switch (ev.kind) {
    case 'exec':
      return ev.filename;
    case 'exit':
      // The reader takes a signal's number for no exit code: the target of a killed process is empty.
      return ev.exitCode === null ? '' : String(ev.exitCode);
    case 'fork':
      return '';
    case 'open':
      return ev.path;
    case 'connect':
    case 'accept':
      return `${ev.peerAddress}:${ev.peerPort}`;
    case 'dns':
      return ev.name;
    case 'tls':
    case 'http': {
      const wire = ev.wireFacts;
      const w = wire?.w;
      if (w?.method) return `${w.method} ${w.host ?? ''}${w.path ?? ''}`;
      if (w?.statusCode !== undefined) return `response ${w.statusCode}`;
      if (wire?.model !== undefined) return `model ${wire.model}`;
      return ev.kind === 'tls' ? ev.direction : '';
    }
  }
}

/** Exec info of a process that was running before the sensor saw its exec (best effort, unprivileged). */
function readProcInfo(pid: number, info: ExecInfo): void {
  const image = readProcessImage(pid);
  if (image?.args) info.args = redactArgs(image.args);
  if (image?.path !== undefined) info.path = image.path;
}
