// What a kernel event's log record says: its body and attributes (semantic-convention names, `aibom.*`
// where none exists), made from the event when first read (see decoded-event.ts and
// pipeline/kernel-event/writer.ts).

import { constants as osConstants } from 'node:os';
import Long from 'long';
import { anyValue } from '../../pipeline/otlp/attributes.js';
import type { KeyValue } from '../../pipeline/otlp/types.js';
import type { KernelEventFacts } from '../../pipeline/kernel-event/index.js';
import { ATTR } from '../../pipeline/semconv.js';
import type { DecodedEvent } from './decoded-event.js';
import type { EventKind } from './frame-decoder.js';
import { CONSTANTS as C } from './layout.js';
import type { WireInfo } from './wire-parse.js';

/** What a TLS or HTTP event's data said, read once when the event arrives (its data is then dropped). */
export interface WireFacts {
  w: WireInfo | undefined;
  model: string | undefined;
  /** The redacted plaintext, when `capture_payload` is on. */
  payloadText: string | undefined;
  /** The W3C ids named on the wire, as the record's facts carry them. */
  traceparent: KernelEventFacts['wire'];
}

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

/** Which shadow-AI signature an EVF_SHADOW record matched, by event kind. */
const SHADOW_SIGNATURE: Partial<Record<EventKind, string>> = {
  dns: 'provider_dns',
  http: 'inference_api',
  open: 'model_artifact',
  exec: 'server_executable',
};

export const kv = (key: string, v: string | number | boolean): KeyValue =>
  typeof v === 'string'
    ? { key, value: { stringValue: v } }
    : typeof v === 'boolean'
      ? { key, value: { boolValue: v } }
      : { key, value: { intValue: v } };

/** `tls write POST /v1/chat`, `open /etc/hosts`: what the record's body says. */
export function eventBody(ev: DecodedEvent): string {
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
      const w = ev.wireFacts?.w;
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

/** The record's attributes. */
export function eventAttributes(ev: DecodedEvent): KeyValue[] {
  const a: KeyValue[] = [kv(ATTR.threadId, ev.tid), kv(ATTR.kernelSeq, ev.seq)];
  if (ev.repeat > 0) a.push(kv(ATTR.kernelRepeat, ev.repeat));
  if (ev.truncated) a.push(kv(ATTR.kernelTruncated, true));
  if ((ev.flags & C.EVF_SHADOW) !== 0) {
    const signature = SHADOW_SIGNATURE[ev.kind];
    if (signature) a.push(kv(ATTR.shadowSignature, signature));
  }
  a.push({ key: ATTR.kernelCgroupId, value: { intValue: Long.fromBits(ev.cgroupLow, ev.cgroupHigh, true) } });
  switch (ev.kind) {
    case 'exec':
      a.push(kv(ATTR.processExecutablePath, ev.filename), { key: ATTR.processCommandArgs, value: anyValue(ev.args) });
      break;
    case 'exit':
      if (ev.exitCode !== null) a.push(kv(ATTR.processExitCode, ev.exitCode));
      if (ev.signal !== null) a.push(kv(ATTR.processExitSignal, ev.signal));
      break;
    case 'fork':
      a.push(kv(ATTR.processChildPid, ev.childPid!));
      break;
    case 'open':
      a.push(kv(ATTR.filePath, ev.path), kv(ATTR.fileOpenFlags, ev.openFlags), kv(ATTR.fileResult, ev.ret));
      if (ev.ret < 0) a.push(kv(ATTR.errorType, errnoName(ev.ret)));
      if (ev.credential) a.push(kv(ATTR.identityCredential, true));
      break;
    case 'connect':
    case 'accept': {
      const peer = ev.peerAddress!;
      const port = ev.peerPort!;
      if (ev.transport !== 'other') a.push(kv(ATTR.networkTransport, ev.transport));
      if (ev.family !== 0) a.push(kv(ATTR.networkType, ev.family === 6 ? 'ipv6' : 'ipv4'));
      a.push(kv(ATTR.networkPeerAddress, peer), kv(ATTR.networkPeerPort, port));
      if (ev.localPort !== 0) a.push(kv(ATTR.networkLocalAddress, ev.localAddress), kv(ATTR.networkLocalPort, ev.localPort));
      if (ev.kind === 'connect') {
        a.push(kv(ATTR.serverAddress, peer), kv(ATTR.serverPort, port), kv(ATTR.networkInProgress, ev.inProgress));
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
      const wire = ev.wireFacts;
      const w = wire?.w;
      if (ev.kind === 'tls') a.push(kv(ATTR.tlsDirection, ev.direction));
      else {
        a.push(kv(ATTR.networkTransport, 'tcp'), kv(ATTR.networkPeerAddress, ev.peerAddress!), kv(ATTR.networkPeerPort, ev.peerPort!));
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
