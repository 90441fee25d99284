// A kernel event as the frame decoder makes it, which is also its log record's facts and what makes the
// record's body and attributes when they are first read: one object per event from the frame's bytes to
// correlate's span (an event, its facts and its record were three objects, and a held event kept all three).

import type { KernelEventFacts, KernelRecordSource } from '../../pipeline/kernel-event/index.js';
import type { KeyValue } from '../../pipeline/otlp/types.js';
import { eventAttributes, eventBody, errnoName, type WireFacts } from './event-record.js';
import type { EventKind, SensorEvent } from './frame-decoder.js';
import { CONSTANTS as C } from './layout.js';

const NO_ARGS: readonly string[] = Object.freeze([]);
const NO_DATA = Buffer.alloc(0);

/**
 * Every kernel event the decoder makes, whatever its kind: one class, so all events share one hidden
 * class and each field one representation. Code that reads events (the converter, correlate's facts) then
 * sees one map at each property access: with a literal per event and kind-specific properties added
 * afterwards, each kind had its own map, those accesses became polymorphic beyond V8's limit of four maps,
 * and a kind first seen after optimisation (the exits at the end of a run) deoptimised the functions that
 * read it. The kind-specific fields of `SensorEvent` are accessors on a few slots shared by the kinds (the
 * event is held until its record is made into a span or exported: one field per name of every kind made it
 * twice as large); `kind` says which of them mean something. Flags that are bits of `flags` (truncated,
 * credential, in progress) are read from it.
 *
 * 32-bit words are kept as signed integers (`| 0`, read back with `>>> 0`): V8 keeps a field that ever
 * held a number above 2^31 - 1 as a boxed double, one more 16-byte object per event for each such field.
 *
 * The facts (`KernelEventFacts`) are accessors over the same slots, plus `target` and `wireFacts`, which
 * the converter sets (`convert.ts`) before the event goes downstream as its record's facts and source.
 */
export class DecodedEvent implements KernelEventFacts, KernelRecordSource {
  /** exec filename, open path, dns name, connect/accept/http peer address. */
  private text = '';
  /** connect/accept local address, dns server address. */
  private text2 = '';
  /** exec monitorReason, connect/accept transport, tls direction. */
  private word = '';
  /** exec args, tls/http data. */
  private tail: readonly string[] | Buffer = NO_ARGS;
  /** open/connect/accept ret. */
  ret = 0;
  private n1 = 0;
  private n2 = 0;
  private n3 = 0;
  private n4 = 0;
  /** What the event acted on (a path, a peer, a request line), set by the converter. */
  target = '';
  /** What a tls/http event's data said, read once by the converter. */
  wireFacts: WireFacts | undefined = undefined;

  /**
   * 64-bit values as their 32-bit words (a BigInt each was an allocation per event, and each operation on
   * one another); the BigInts are made when read. `timeHigh` < 0: no stream header yet, no epoch time.
   */
  constructor(
    readonly kind: EventKind,
    readonly seq: number,
    readonly ktimeLow: number,
    readonly ktimeHigh: number,
    readonly timeLow: number,
    readonly timeHigh: number,
    readonly pid: number,
    readonly tid: number,
    readonly ppid: number,
    readonly uid: number,
    readonly cgroupLow: number,
    readonly cgroupHigh: number,
    readonly comm: string,
    readonly flags: number,
    readonly repeat: number,
  ) {}

  /** A `SensorEvent` made some other way (tests, benches) as a `DecodedEvent`: the converter takes only these. */
  static of(ev: SensorEvent): DecodedEvent {
    if (ev instanceof DecodedEvent) return ev;
    const flags =
      ev.flags |
      (ev.truncated ? C.EVF_TRUNCATED : 0) |
      (ev.kind === 'open' && ev.credential ? C.EVF_CREDENTIAL : 0) |
      ((ev.kind === 'connect' || ev.kind === 'accept') && ev.inProgress ? C.EVF_NO_RESULT : 0);
    const time = ev.timeUnixNano;
    const r = new DecodedEvent(
      ev.kind,
      ev.seq,
      low(ev.ktimeNs),
      high(ev.ktimeNs),
      time === undefined ? 0 : low(time),
      time === undefined ? -1 : high(time),
      ev.pid,
      ev.tid,
      ev.ppid,
      ev.uid,
      low(ev.cgroupId),
      high(ev.cgroupId),
      ev.comm,
      flags,
      ev.repeat,
    );
    const fields = r as unknown as Record<string, unknown>;
    for (const k of KIND_FIELDS[ev.kind]) {
      if (k !== 'exitCode' && k !== 'signal' && k !== 'credential' && k !== 'inProgress') fields[k] = (ev as unknown as Record<string, unknown>)[k];
    }
    return r;
  }

  get ktimeNs(): bigint {
    return u64(this.ktimeLow, this.ktimeHigh);
  }

  get timeUnixNano(): bigint | undefined {
    return this.timeHigh < 0 ? undefined : u64(this.timeLow, this.timeHigh);
  }

  /** Epoch milliseconds with their fraction (a double: for lags and batch deadlines), undefined as timeUnixNano. */
  get timeUnixMs(): number | undefined {
    return this.timeHigh < 0 ? undefined : this.timeHigh * 4294.967296 + (this.timeLow >>> 0) / 1e6;
  }

  get cgroupId(): bigint {
    return u64(this.cgroupLow, this.cgroupHigh);
  }

  get truncated(): boolean { return (this.flags & C.EVF_TRUNCATED) !== 0; }
  get filename(): string { return this.text; }
  set filename(v: string) { this.text = v; }
  get path(): string { return this.text; }
  set path(v: string) { this.text = v; }
  get name(): string { return this.text; }
  set name(v: string) { this.text = v; }
  /** connect/accept/http: the peer; dns: the server asked (the facts' peer); others: none. */
  get peerAddress(): string | undefined {
    return this.kind === 'dns' ? this.text2 : hasPeer(this.kind) ? this.text : undefined;
  }
  set peerAddress(v: string) { this.text = v; }
  /** As `peerAddress`. */
  get peerPort(): number | undefined {
    return this.kind === 'dns' || hasPeer(this.kind) ? this.n4 : undefined;
  }
  set peerPort(v: number) { this.n4 = v; }
  get localAddress(): string { return this.text2; }
  set localAddress(v: string) { this.text2 = v; }
  get serverAddress(): string { return this.text2; }
  set serverAddress(v: string) { this.text2 = v; }
  get monitorReason(): string { return this.word; }
  set monitorReason(v: string) { this.word = v; }
  get transport(): string { return this.word; }
  set transport(v: string) { this.word = v; }
  get direction(): string { return this.word; }
  set direction(v: string) { this.word = v; }
  get args(): readonly string[] { return this.kind === 'exec' ? (this.tail as readonly string[]) : NO_ARGS; }
  set args(v: readonly string[]) { this.tail = v; }
  get data(): Buffer { return this.kind === 'tls' || this.kind === 'http' ? (this.tail as Buffer) : NO_DATA; }
  set data(v: Buffer) { this.tail = v; }
  get oldPid(): number { return this.n1; }
  set oldPid(v: number) { this.n1 = v; }
  get argsCount(): number { return this.n2; }
  set argsCount(v: number) { this.n2 = v; }
  get exitStatus(): number { return this.n1; }
  set exitStatus(v: number) { this.n1 = v; }
  /** Exit code when the process exited normally, else null. */
  get exitCode(): number | null { return (this.n1 & 0x7f) === 0 ? (this.n1 >> 8) & 0xff : null; }
  /** Terminating signal, else null. */
  get signal(): number | null { return (this.n1 & 0x7f) !== 0 ? this.n1 & 0x7f : null; }
  get startKtimeNs(): bigint { return u64(this.n2, this.n3); }
  set startKtimeNs(v: bigint) {
    this.n2 = low(v);
    this.n3 = high(v);
  }
  /** fork: the child; the facts of other kinds: none. */
  get childPid(): number | undefined { return this.kind === 'fork' ? this.n1 : undefined; }
  set childPid(v: number) { this.n1 = v; }
  get openFlags(): number { return this.n1; }
  set openFlags(v: number) { this.n1 = v; }
  get mode(): number { return this.n2; }
  set mode(v: number) { this.n2 = v; }
  get family(): number { return this.n1; }
  set family(v: number) { this.n1 = v; }
  get protocol(): number { return this.n2; }
  set protocol(v: number) { this.n2 = v; }
  get localPort(): number { return this.n3; }
  set localPort(v: number) { this.n3 = v; }
  get qtype(): number { return this.n1; }
  set qtype(v: number) { this.n1 = v; }
  get qclass(): number { return this.n2; }
  set qclass(v: number) { this.n2 = v; }
  get txid(): number { return this.n3; }
  set txid(v: number) { this.n3 = v; }
  get serverPort(): number { return this.n4; }
  set serverPort(v: number) { this.n4 = v; }
  get totalLen(): number { return this.n1; }
  set totalLen(v: number) { this.n1 = v; }
  get fd(): number { return this.n2; }
  set fd(v: number) { this.n2 = v; }
  /** open: the path holds credentials. */
  get credential(): boolean { return this.kind === 'open' && (this.flags & C.EVF_CREDENTIAL) !== 0; }
  /** connect: non-blocking, the outcome not known yet. */
  get inProgress(): boolean { return (this.flags & C.EVF_NO_RESULT) !== 0; }

  // ------------------------------------------------------------------ the facts (KernelEventFacts)

  /** Events the kernel folded into this one (dedupe) plus this one. */
  get count(): number {
    return 1 + (this.repeat > 0 ? this.repeat : 0);
  }

  get wire(): KernelEventFacts['wire'] {
    return this.wireFacts?.traceparent;
  }

  /** A failed open's or connect's errno name. */
  get errorType(): string | undefined {
    if (this.ret >= 0) return undefined;
    if (this.kind === 'open' || (this.kind === 'connect' && !this.inProgress)) return errnoName(this.ret);
    return undefined;
  }

  // ------------------------------------------------------------------ the record (KernelRecordSource)

  body(): string {
    return eventBody(this);
  }

  attributes(): KeyValue[] {
    return eventAttributes(this);
  }

  /** The fields of its kind, as `SensorEvent` names them (the accessors are not own properties). */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const k of BASE_FIELDS) out[k] = this[k];
    for (const k of KIND_FIELDS[this.kind]) out[k] = (this as unknown as Record<string, unknown>)[k];
    return out;
  }
}

const hasPeer = (kind: EventKind): boolean => kind === 'connect' || kind === 'accept' || kind === 'http';
const u64 = (low: number, high: number): bigint => (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0);
const low = (v: bigint): number => Number(BigInt.asIntN(32, v));
const high = (v: bigint): number => Number(BigInt.asIntN(32, v >> 32n));

const BASE_FIELDS = ['kind', 'seq', 'ktimeNs', 'timeUnixNano', 'pid', 'tid', 'ppid', 'uid', 'cgroupId', 'comm', 'flags', 'repeat', 'truncated'] as const;
const SOCKET_FIELDS = ['ret', 'family', 'transport', 'protocol', 'localAddress', 'localPort', 'peerAddress', 'peerPort', 'inProgress'];
const KIND_FIELDS: Readonly<Record<EventKind, readonly string[]>> = {
  exec: ['oldPid', 'filename', 'args', 'argsCount', 'monitorReason'],
  exit: ['exitStatus', 'exitCode', 'signal', 'startKtimeNs'],
  fork: ['childPid'],
  open: ['path', 'openFlags', 'mode', 'ret', 'credential'],
  connect: SOCKET_FIELDS,
  accept: SOCKET_FIELDS,
  dns: ['name', 'qtype', 'qclass', 'txid', 'serverAddress', 'serverPort'],
  tls: ['direction', 'totalLen', 'data'],
  http: ['totalLen', 'data', 'fd', 'peerAddress', 'peerPort'],
};
