import { findAttr, int64ToMicros } from '../otlp/attributes.js';
import type { KeyValue, LogRecord, Resource } from '../otlp/types.js';
import { ATTR, KERNEL_EVENT_KINDS, KERNEL_EVENT_PREFIX, type KernelEventKind } from '../semconv.js';
import { parseTraceparent } from '../trace-context.js';
import { kernelFacts } from './provenance.js';

const KINDS: ReadonlySet<string> = new Set(KERNEL_EVENT_KINDS);

/**
 * What matching and span building need of one kernel event, as its attributes say it. The writer
 * (receiver/ebpf) knows them from the decoded event and hands them over with the record's mark, so a
 * record read only by correlate never has its attributes looked through, or made (see writer.ts).
 */
export interface KernelEventFacts {
  kind: KernelEventKind;
  /** Events the sensor folded into this one (kernel dedupe) plus this one. */
  count: number;
  /** W3C ids named on the wire (HTTP header, TLS plaintext, MCP params._meta). */
  wire: { traceId: string; spanId: string; source: string } | undefined;
  peerAddress: string | undefined;
  peerPort: number | undefined;
  /** What the event acted on: a path, a peer, a DNS name, a request line. */
  target: string;
  /** An open of a file that holds credentials (`aibom.identity.credential`). */
  credential: boolean;
  /** A failed call's errno name (`error.type`). */
  errorType: string | undefined;
  /** A fork's child (`process.child_pid`). */
  childPid: number | undefined;
}

/** The process of a kernel event's resource. */
export interface KernelProcess {
  pid: number;
  ppid: number;
  comm: string;
}

/** A kernel-event log record (written by `writeKernelRecord`) read once into what matching needs. */
export interface KernelEventView extends KernelEventFacts, KernelProcess {
  /** Unix time in microseconds: exact in a double, fine enough for containment tests. */
  timeUs: number;
  record: LogRecord;
  resource: Resource;
}

function str(list: readonly KeyValue[] | undefined, key: string): string | undefined {
  const v = findAttr(list, key);
  return typeof v === 'string' ? v : undefined;
}

function num(list: readonly KeyValue[] | undefined, key: string): number | undefined {
  const v = findAttr(list, key);
  return typeof v === 'number' ? v : undefined;
}

/** What an event of this kind acted on, used in span names and to aggregate repeats. */
function targetOf(kind: KernelEventKind, a: readonly KeyValue[] | undefined): string {
  switch (kind) {
    case 'exec':
      return str(a, ATTR.processExecutablePath) ?? '';
    case 'open':
      return str(a, ATTR.filePath) ?? '';
    case 'connect':
    case 'accept':
      return `${str(a, ATTR.networkPeerAddress) ?? '?'}:${num(a, ATTR.networkPeerPort) ?? '?'}`;
    case 'dns':
      return str(a, ATTR.dnsQuestionName) ?? '';
    case 'http':
    case 'tls': {
      const method = str(a, ATTR.httpRequestMethod);
      if (method) return `${method} ${str(a, ATTR.serverAddress) ?? ''}${str(a, ATTR.urlPath) ?? ''}`;
      const status = num(a, ATTR.httpResponseStatusCode);
      if (status !== undefined) return `response ${status}`;
      // A request body naming its model (receiver/ebpf reads it): one span per model, not one for all writes.
      const model = str(a, ATTR.genAiRequestModel);
      return model !== undefined ? `model ${model}` : (str(a, ATTR.tlsDirection) ?? '');
    }
    case 'exit':
      return String(num(a, ATTR.processExitCode) ?? str(a, ATTR.processExitSignal) ?? '');
    case 'fork':
      return '';
  }
}

/** The facts of a marked record whose writer gave none (a test's record, one written before facts existed). */
function factsFromAttributes(kind: KernelEventKind, a: readonly KeyValue[] | undefined): KernelEventFacts {
  const tp = parseTraceparent(findAttr(a, ATTR.wireTraceparent));
  const peer = str(a, ATTR.networkPeerAddress);
  return {
    kind,
    count: 1 + (num(a, ATTR.kernelRepeat) ?? 0),
    wire: tp ? { traceId: tp.traceId, spanId: tp.spanId, source: str(a, ATTR.wireTraceparentSource) ?? 'http' } : undefined,
    peerAddress: peer,
    peerPort: peer === undefined ? undefined : num(a, ATTR.networkPeerPort),
    target: targetOf(kind, a),
    credential: findAttr(a, ATTR.identityCredential) === true,
    errorType: str(a, ATTR.errorType),
    childPid: kind === 'fork' ? num(a, ATTR.processChildPid) : undefined,
  };
}

/** The process a kernel event's resource names; read once per resource, not per event. */
export function readKernelProcess(resource: Resource): KernelProcess {
  const r = resource.attributes;
  return { pid: num(r, ATTR.processPid) ?? 0, ppid: num(r, ATTR.processParentPid) ?? 0, comm: str(r, ATTR.processExecutableName) ?? '' };
}

/**
 * What a kernel-event record says of its event: the facts its writer handed over with the mark (that
 * object itself, nothing copied), else read from its attributes; undefined for every record this
 * process's kernel-event writer did not make, whatever its scope, event name or attributes say (an
 * OTLP client can send those). With the record's time and `readKernelProcess` of its resource this is
 * all a reader needs, so a reader that keeps events (correlate) builds its own object from them once.
 */
export function readKernelFacts(record: LogRecord): KernelEventFacts | undefined {
  const given = kernelFacts(record);
  if (given !== null) return given;
  const name = record.eventName ?? '';
  const kind = name.slice(KERNEL_EVENT_PREFIX.length);
  if (!name.startsWith(KERNEL_EVENT_PREFIX) || !KINDS.has(kind)) return undefined; // e.g. a sensor gap record
  return factsFromAttributes(kind as KernelEventKind, record.attributes);
}

/**
 * The kernel event a log record stands for, as one view (see `readKernelFacts`); undefined for records
 * that are not kernel events. `proc`: `readKernelProcess(resource)`, when the caller reads many records
 * of one resource.
 */
export function readKernelEvent(record: LogRecord, resource: Resource, proc: KernelProcess = readKernelProcess(resource)): KernelEventView | undefined {
  const facts = readKernelFacts(record);
  if (facts === undefined) return undefined;
  // One object shape for every view, whichever way its facts came.
  return {
    kind: facts.kind,
    count: facts.count,
    wire: facts.wire,
    peerAddress: facts.peerAddress,
    peerPort: facts.peerPort,
    target: facts.target,
    credential: facts.credential,
    errorType: facts.errorType,
    childPid: facts.childPid,
    pid: proc.pid,
    ppid: proc.ppid,
    comm: proc.comm,
    timeUs: int64ToMicros(record.timeUnixNano),
    record,
    resource,
  };
}
