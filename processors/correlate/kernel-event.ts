import { findAttr } from '../../pipeline/otlp/attributes.js';
import { int64ToBigInt } from '../../pipeline/otlp/attributes.js';
import type { Int64, KeyValue, LogRecord, Resource } from '../../pipeline/otlp/types.js';
import { ATTR, KERNEL_EVENT_PREFIX, type KernelEventKind } from '../../pipeline/semconv.js';

/** A kernel-event log record (receiver/ebpf) read once into what matching needs. */
export interface KernelEvent {
  kind: KernelEventKind;
  /** Unix time in microseconds: exact in a double, fine enough for containment tests. */
  timeUs: number;
  pid: number;
  ppid: number;
  comm: string;
  /** Events the sensor folded into this one (kernel dedupe) plus this one. */
  count: number;
  /** W3C ids named on the wire (HTTP header, TLS plaintext, MCP params._meta). */
  wire?: { traceId: string; spanId: string; source: string };
  peerAddress?: string;
  peerPort?: number;
  /** What the event acted on: a path, a peer, a DNS name, a request line. */
  target: string;
  record: LogRecord;
  resource: Resource;
  arrivedAtMs: number;
  /**
   * Set when the last round found no span at all for it: it needs matching again only once spans of
   * its process or an ancestor arrive, its ancestry changes, or its window ends (see CorrelateProcessor).
   */
  unmatched?: boolean;
}

/**
 * Exact microseconds (floor) of a 64-bit nanosecond timestamp. For a Long (what protobufjs decodes and
 * receiver/ebpf writes) without the string and BigInt round trip: ns = hi * 2^32 + lo and
 * 2^32 = 4294967 * 1000 + 296; below 2^62 ns (year 2116) every partial product stays below 2^53.
 */
export function int64ToMicros(v: Int64 | null | undefined): number {
  if (v !== null && typeof v === 'object' && v.high >= 0 && v.high < 0x40000000) {
    const hi = v.high;
    const lo = v.low >>> 0;
    return hi * 4294967 + Math.floor((hi * 296 + lo) / 1000);
  }
  return Number(int64ToBigInt(v) / 1000n);
}

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

export function parseTraceparent(v: unknown): { traceId: string; spanId: string } | undefined {
  if (typeof v !== 'string') return undefined;
  const m = TRACEPARENT.exec(v.trim().toLowerCase());
  if (!m || /^0+$/.test(m[1]!) || /^0+$/.test(m[2]!)) return undefined;
  return { traceId: m[1]!, spanId: m[2]! };
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
      return status !== undefined ? `response ${status}` : (str(a, ATTR.tlsDirection) ?? '');
    }
    case 'exit':
      return String(num(a, ATTR.processExitCode) ?? str(a, ATTR.processExitSignal) ?? '');
    case 'fork':
      return '';
  }
}

/** Undefined for log records that are not kernel events. */
export function readKernelEvent(record: LogRecord, resource: Resource, arrivedAtMs: number): KernelEvent | undefined {
  const name = record.eventName ?? '';
  if (!name.startsWith(KERNEL_EVENT_PREFIX)) return undefined;
  const kind = name.slice(KERNEL_EVENT_PREFIX.length) as KernelEventKind;
  const a = record.attributes;
  const r = resource.attributes;
  const tp = parseTraceparent(findAttr(a, ATTR.wireTraceparent));
  const ev: KernelEvent = {
    kind,
    timeUs: int64ToMicros(record.timeUnixNano),
    pid: num(r, ATTR.processPid) ?? 0,
    ppid: num(r, ATTR.processParentPid) ?? 0,
    comm: str(r, ATTR.processExecutableName) ?? '',
    count: 1 + (num(a, ATTR.kernelRepeat) ?? 0),
    target: targetOf(kind, a),
    record,
    resource,
    arrivedAtMs,
    unmatched: false, // set here, not later: one object shape for every held event
  };
  if (tp) ev.wire = { ...tp, source: str(a, ATTR.wireTraceparentSource) ?? 'http' };
  const peer = str(a, ATTR.networkPeerAddress);
  if (peer !== undefined) {
    ev.peerAddress = peer;
    ev.peerPort = num(a, ATTR.networkPeerPort);
  }
  return ev;
}
