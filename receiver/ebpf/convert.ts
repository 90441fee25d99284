// Kernel events -> OTLP log records, one ResourceLogs per process in a batch. Hot path: one LogRecord
// and its attribute list per event; resource attributes are built once per process per batch, exec info
// and container identity come from bounded caches.

import { hostname } from 'node:os';
import { constants as osConstants } from 'node:os';
import Long from 'long';
import { readMachineId } from '../../pipeline/machine-id.js';
import { readProcessImage } from '../../pipeline/process-identity.js';
import { redactArgs, redactSecrets } from '../../pipeline/redact.js';
import { anyValue } from '../../pipeline/otlp/attributes.js';
import type { KeyValue, LogRecord, LogsData, ResourceLogs } from '../../pipeline/otlp/types.js';
import { markKernelRecord, writeKernelRecord, type KernelEventFacts, type KernelRecordSource } from '../../pipeline/kernel-event/index.js';
import { parseTraceparent, type Traceparent } from '../../pipeline/trace-context.js';
import { ATTR, KERNEL_SCOPE, SENSOR_SCOPE, type KernelEventKind } from '../../pipeline/semconv.js';
import type { ContainerResolver } from './container.js';
import { DecodedEvent, type ExecEvent, type HttpEvent, type SensorEvent, type TlsEvent } from './frame-decoder.js';
import { parseWire } from './wire-parse.js';
import { CONSTANTS as C } from './layout.js';
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

const ERRNO_NAME: Record<number, string> = (() => {
  const out: Record<number, string> = {};
  for (const [name, n] of Object.entries(osConstants.errno)) if (out[n] === undefined) out[n] = name;
  return out;
})();

/** `-2` -> `ENOENT`. */
export function errnoName(negErrno: number): string {
  return ERRNO_NAME[-negErrno] ?? `errno ${-negErrno}`;
}

const DNS_TYPES: Record<number, string> = { 1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV', 64: 'SVCB', 65: 'HTTPS', 255: 'ANY' };
export function dnsTypeName(qtype: number): string {
  return DNS_TYPES[qtype] ?? `TYPE${qtype}`;
}

/** Exact 64-bit unsigned nanoseconds without a decimal round trip. */
export function nsToLong(ns: bigint): Long {
  return Long.fromBits(Number(ns & 0xffffffffn), Number((ns >> 32n) & 0xffffffffn), true);
}

/** Which shadow-AI signature an EVF_SHADOW record matched, by event kind. */
const SHADOW_SIGNATURE: Partial<Record<SensorEvent['kind'], string>> = {
  dns: 'provider_dns',
  http: 'inference_api',
  open: 'model_artifact',
  exec: 'server_executable',
};

const MODEL_KEY = Buffer.from('"model"');
const MODEL_VALUE = /^"model"\s*:\s*"([^"\\]{1,128})"/;

/** The model a request body names (`"model":"gpt-4o-mini"`), when its first bytes carry it. */
export function requestModel(data: Buffer): string | undefined {
  const at = data.indexOf(MODEL_KEY);
  if (at < 0) return undefined;
  return MODEL_VALUE.exec(data.toString('latin1', at, at + 160))?.[1];
}

const kv = (key: string, v: string | number | boolean): KeyValue =>
  typeof v === 'string'
    ? { key, value: { stringValue: v } }
    : typeof v === 'boolean'
      ? { key, value: { boolValue: v } }
      : { key, value: { intValue: v } };

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

  private group(ev: SensorEvent, info: ExecInfo): Group {
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
   * event: an exec's args are replaced by their redacted form and a TLS or HTTP event's data is dropped
   * once read, in place (a copy per event gave the converter's readers a second map for each kind).
   */
  add(ev: SensorEvent, observed: Long, fallbackTime: Long): void {
    // Command lines carry API keys and passwords: nothing downstream ever sees them unredacted.
    if (ev.kind === 'exec') {
      const args = redactArgs(ev.args);
      if (args !== ev.args) (ev as Mutable<ExecEvent>).args = args;
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
      this.execInfo.delete(ev.childPid);
      if (info.path !== undefined) this.keep(ev.childPid, execInfo(info.path, info.args));
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

  private record(ev: SensorEvent, observed: Long, fallbackTime: Long): LogRecord {
    let wire: WireFacts | undefined;
    if (ev.kind === 'tls' || ev.kind === 'http') {
      const w = parseWire(ev.data);
      // A request body's model: what a shadow client (or any watched one) asks for.
      const model = ev.kind === 'tls' && ev.direction === 'read' ? undefined : requestModel(ev.data);
      const payloadText = this.opts.capturePayload ? redactSecrets(ev.data.toString('utf8')) : undefined;
      wire = { w, model, payloadText };
      // The attributes are made from the event later, if ever: without its data, a copy of up to a page.
      (ev as Mutable<TlsEvent | HttpEvent>).data = NO_DATA;
    }
    const facts = factsOf(ev, wire);
    return writeKernelRecord({
      kind: ev.kind,
      timeUnixNano: timeOf(ev, fallbackTime),
      observedTimeUnixNano: observed,
      source: facts,
      facts,
    });
  }
}

const NO_DATA = Buffer.alloc(0);

/** The event's epoch time as a Long: a decoded event's from its words, without a BigInt. */
function timeOf(ev: SensorEvent, fallback: Long): Long {
  if (ev instanceof DecodedEvent) return ev.timeHigh < 0 ? fallback : Long.fromBits(ev.timeLow, ev.timeHigh, true);
  return ev.timeUnixNano === undefined ? fallback : nsToLong(ev.timeUnixNano);
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** What a TLS or HTTP event's data said, read once when the event arrives. */
interface WireFacts {
  w: ReturnType<typeof parseWire>;
  model: string | undefined;
  /** The redacted plaintext, when `capture_payload` is on. */
  payloadText: string | undefined;
}

/** `tls write POST /v1/chat`, `open /etc/hosts`: what the record's body says. */
function bodyOf(ev: SensorEvent, w: WireFacts['w']): string {
  switch (ev.kind) {
    case 'exec':
      return `exec ${ev.filename}`;
    case 'exit':
      return ev.signal !== null ? `exit signal ${ev.signal}` : `exit ${ev.exitCode}`;
    case 'fork':
      return `fork ${ev.childPid}`;
    case 'open':
      return `open ${ev.path}`;
    case 'connect':
    case 'accept':
      return `${ev.kind} ${ev.family === 6 ? `[${ev.peerAddress}]` : ev.peerAddress}:${ev.peerPort}`;
    case 'dns':
      return `dns ${ev.name}`;
    case 'tls':
    case 'http': {
      let what = '';
      if (w) {
        if (w.method !== undefined) what = ` ${w.method} ${w.path ?? ''}`;
        if (w.statusCode !== undefined) what = ` HTTP ${w.statusCode}`;
      }
      if (ev.kind === 'tls') return `tls ${ev.direction}${what}`;
      return what ? `http${what}` : `http ${ev.peerAddress}:${ev.peerPort}`;
    }
  }
}

/**
 * One event's facts (what correlate reads) with what makes its record's body and attributes if anything
 * reads them: one object per event, of one class, beside the record.
 */
class EventFacts implements KernelEventFacts, KernelRecordSource {
  constructor(
    readonly kind: KernelEventKind,
    readonly count: number,
    readonly wire: KernelEventFacts['wire'],
    readonly peerAddress: string | undefined,
    readonly peerPort: number | undefined,
    readonly target: string,
    readonly credential: boolean,
    readonly errorType: string | undefined,
    readonly childPid: number | undefined,
    private readonly event: SensorEvent,
    private readonly wireFacts: WireFacts | undefined,
  ) {}

  body(): string {
    return bodyOf(this.event, this.wireFacts?.w);
  }

  attributes(): KeyValue[] {
    return attributesOf(this.event, this.wireFacts);
  }
}

/**
 * What `readKernelEvent` reads from the attributes `attributesOf` makes, straight from the event (the
 * kernel-event contract test in convert-facts.test.ts holds the two to each other, kind by kind).
 */
function factsOf(ev: SensorEvent, wire: WireFacts | undefined): EventFacts {
  let target = '';
  let peerAddress: string | undefined;
  let peerPort: number | undefined;
  let traceparent: Traceparent | undefined;
  let source = 'http';
  let credential = false;
  let errorType: string | undefined;
  let childPid: number | undefined;
  switch (ev.kind) {
    case 'exec':
      target = ev.filename;
      break;
    case 'exit':
      // The reader takes a signal's number for no exit code: the target of a killed process is empty.
      target = ev.exitCode === null ? '' : String(ev.exitCode);
      break;
    case 'fork':
      childPid = ev.childPid;
      break;
    case 'open':
      target = ev.path;
      credential = ev.credential;
      if (ev.ret < 0) errorType = errnoName(ev.ret);
      break;
    case 'connect':
    case 'accept':
      peerAddress = ev.peerAddress;
      peerPort = ev.peerPort;
      target = `${ev.peerAddress}:${ev.peerPort}`;
      if (ev.kind === 'connect' && ev.ret < 0 && !ev.inProgress) errorType = errnoName(ev.ret);
      break;
    case 'dns':
      target = ev.name;
      peerAddress = ev.serverAddress;
      peerPort = ev.serverPort;
      break;
    case 'tls':
    case 'http': {
      if (ev.kind === 'http') {
        peerAddress = ev.peerAddress;
        peerPort = ev.peerPort;
      }
      const w = wire?.w;
      if (w?.method) target = `${w.method} ${w.host ?? ''}${w.path ?? ''}`;
      else if (w?.statusCode !== undefined) target = `response ${w.statusCode}`;
      else if (wire?.model !== undefined) target = `model ${wire.model}`;
      else if (ev.kind === 'tls') target = ev.direction;
      if (w?.traceparent !== undefined) {
        traceparent = parseTraceparent(w.traceparent);
        source = w.traceparentSource === 'mcp_meta' ? 'mcp_meta' : ev.kind;
      }
      break;
    }
  }
  return new EventFacts(
    ev.kind,
    1 + (ev.repeat > 0 ? ev.repeat : 0),
    traceparent ? { traceId: traceparent.traceId, spanId: traceparent.spanId, source } : undefined,
    peerAddress,
    peerPort,
    target,
    credential,
    errorType,
    childPid,
    ev,
    wire,
  );
}

/** The record's attributes (semantic-convention names, `aibom.*` where none exists). */
function attributesOf(ev: SensorEvent, wire: WireFacts | undefined): KeyValue[] {
  const a: KeyValue[] = [kv(ATTR.threadId, ev.tid), kv(ATTR.kernelSeq, ev.seq)];
  if (ev.repeat > 0) a.push(kv(ATTR.kernelRepeat, ev.repeat));
  if (ev.truncated) a.push(kv(ATTR.kernelTruncated, true));
  if ((ev.flags & C.EVF_SHADOW) !== 0) {
    const signature = SHADOW_SIGNATURE[ev.kind];
    if (signature) a.push(kv(ATTR.shadowSignature, signature));
  }
  a.push({ key: ATTR.kernelCgroupId, value: { intValue: nsToLong(ev.cgroupId) } });
  switch (ev.kind) {
    case 'exec':
      a.push(kv(ATTR.processExecutablePath, ev.filename), { key: ATTR.processCommandArgs, value: anyValue(ev.args) });
      break;
    case 'exit':
      if (ev.exitCode !== null) a.push(kv(ATTR.processExitCode, ev.exitCode));
      if (ev.signal !== null) a.push(kv(ATTR.processExitSignal, ev.signal));
      break;
    case 'fork':
      a.push(kv(ATTR.processChildPid, ev.childPid));
      break;
    case 'open':
      a.push(kv(ATTR.filePath, ev.path), kv(ATTR.fileOpenFlags, ev.openFlags), kv(ATTR.fileResult, ev.ret));
      if (ev.ret < 0) a.push(kv(ATTR.errorType, errnoName(ev.ret)));
      if (ev.credential) a.push(kv(ATTR.identityCredential, true));
      break;
    case 'connect':
    case 'accept': {
      if (ev.transport !== 'other') a.push(kv(ATTR.networkTransport, ev.transport));
      if (ev.family !== 0) a.push(kv(ATTR.networkType, ev.family === 6 ? 'ipv6' : 'ipv4'));
      a.push(kv(ATTR.networkPeerAddress, ev.peerAddress), kv(ATTR.networkPeerPort, ev.peerPort));
      if (ev.localPort !== 0) a.push(kv(ATTR.networkLocalAddress, ev.localAddress), kv(ATTR.networkLocalPort, ev.localPort));
      if (ev.kind === 'connect') {
        a.push(kv(ATTR.serverAddress, ev.peerAddress), kv(ATTR.serverPort, ev.peerPort), kv(ATTR.networkInProgress, ev.inProgress));
        if (ev.ret < 0 && !ev.inProgress) a.push(kv(ATTR.errorType, errnoName(ev.ret)));
      }
      a.push(kv(ATTR.networkResult, ev.ret));
      break;
    }
    case 'dns':
      a.push(
        kv(ATTR.dnsQuestionName, ev.name),
        kv(ATTR.dnsQtype, dnsTypeName(ev.qtype)),
        kv(ATTR.networkTransport, 'udp'),
        kv(ATTR.networkPeerAddress, ev.serverAddress),
        kv(ATTR.networkPeerPort, ev.serverPort),
      );
      break;
    case 'tls':
    case 'http': {
      const w = wire?.w;
      if (ev.kind === 'tls') a.push(kv(ATTR.tlsDirection, ev.direction));
      else {
        a.push(kv(ATTR.networkTransport, 'tcp'), kv(ATTR.networkPeerAddress, ev.peerAddress), kv(ATTR.networkPeerPort, ev.peerPort));
      }
      a.push(kv(ATTR.payloadSize, ev.totalLen));
      if (w) {
        if (w.method !== undefined) a.push(kv(ATTR.httpRequestMethod, w.method));
        if (w.path !== undefined) a.push(kv(ATTR.urlPath, w.path));
        if (w.host !== undefined) a.push(kv(ATTR.serverAddress, w.host));
        if (w.port !== undefined) a.push(kv(ATTR.serverPort, w.port));
        if (w.contentLength !== undefined && w.method !== undefined) a.push(kv(ATTR.httpRequestBodySize, w.contentLength));
        if (w.userAgent !== undefined) a.push(kv(ATTR.userAgent, w.userAgent));
        if (w.statusCode !== undefined) a.push(kv(ATTR.httpResponseStatusCode, w.statusCode));
        if (w.traceparent !== undefined) {
          a.push(kv(ATTR.wireTraceparent, w.traceparent), kv(ATTR.wireTraceparentSource, w.traceparentSource === 'mcp_meta' ? 'mcp_meta' : ev.kind));
        }
      }
      if (wire?.model !== undefined) a.push(kv(ATTR.genAiRequestModel, wire.model));
      if (wire?.payloadText !== undefined) a.push(kv(ATTR.payloadText, wire.payloadText));
      break;
    }
  }
  return a;
}

/** Exec info of a process that was running before the sensor saw its exec (best effort, unprivileged). */
function readProcInfo(pid: number, info: ExecInfo): void {
  const image = readProcessImage(pid);
  if (image?.args) info.args = redactArgs(image.args);
  if (image?.path !== undefined) info.path = image.path;
}
