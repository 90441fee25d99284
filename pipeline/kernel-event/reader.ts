import { findAttr, int64ToMicros } from '../otlp/attributes.js';
import type { KeyValue, LogRecord, Resource } from '../otlp/types.js';
import { ATTR, KERNEL_EVENT_KINDS, KERNEL_EVENT_PREFIX, type KernelEventKind } from '../semconv.js';
import { parseTraceparent } from '../trace-context.js';
import { isKernelRecord } from './provenance.js';

const KINDS: ReadonlySet<string> = new Set(KERNEL_EVENT_KINDS);

/** A kernel-event log record (written by `writeKernelRecord`) read once into what matching needs. */
export interface KernelEventView {
  kind: KernelEventKind;
  /** Unix time in microseconds: exact in a double, fine enough for containment tests. */
  timeUs: number;
  pid: number;
  ppid: number;
  comm: string;
  /** Events the sensor folded into this one (kernel dedupe) plus this one. */
  count: number;
  /** W3C ids named on the wire (HTTP header, TLS plaintext, MCP params._meta). */
  wire: { traceId: string; spanId: string; source: string } | undefined;
  peerAddress: string | undefined;
  peerPort: number | undefined;
  /** What the event acted on: a path, a peer, a DNS name, a request line. */
  target: string;
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

/**
 * The kernel event a log record stands for; undefined for every record this process's kernel-event
 * writer did not make, whatever its scope, event name or attributes say (an OTLP client can send those).
 */
export function readKernelEvent(record: LogRecord, resource: Resource): KernelEventView | undefined {
  if (!isKernelRecord(record)) return undefined;
  const name = record.eventName ?? '';
  const kind = name.slice(KERNEL_EVENT_PREFIX.length);
  if (!name.startsWith(KERNEL_EVENT_PREFIX) || !KINDS.has(kind)) return undefined; // e.g. a sensor gap record
  const k = kind as KernelEventKind;
  const a = record.attributes;
  const r = resource.attributes;
  const tp = parseTraceparent(findAttr(a, ATTR.wireTraceparent));
  const peer = str(a, ATTR.networkPeerAddress);
  return {
    kind: k,
    timeUs: int64ToMicros(record.timeUnixNano),
    pid: num(r, ATTR.processPid) ?? 0,
    ppid: num(r, ATTR.processParentPid) ?? 0,
    comm: str(r, ATTR.processExecutableName) ?? '',
    count: 1 + (num(a, ATTR.kernelRepeat) ?? 0),
    wire: tp ? { traceId: tp.traceId, spanId: tp.spanId, source: str(a, ATTR.wireTraceparentSource) ?? 'http' } : undefined,
    peerAddress: peer,
    peerPort: peer === undefined ? undefined : num(a, ATTR.networkPeerPort),
    target: targetOf(k, a),
    record,
    resource,
  };
}
