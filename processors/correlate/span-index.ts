import { randomBytes } from 'node:crypto';
import type { Span } from '../../pipeline/otlp/types.js';
import { endMicros, idHex, locateId, startMicros } from '../../pipeline/otlp/span-view.js';
import type { CanonicalKind, CanonicalSpan } from '../normalize/index.js';

/** What correlation hands on of a matched span (made per placed event, not kept per indexed span). */
export interface SpanRef {
  traceId: string;
  spanId: string;
  /**
   * `process.pid` of the span's resource; without one, the process holding the OTLP connection the
   * span came over (`pidSource`); 0 when neither is known.
   */
  pid: number;
  pidSource?: 'otlp_connection';
  serviceName: string;
  arrivedAtMs: number;
}

/** What every span of one resource shares: one object per resource, not per span. */
export interface ResourceFacts {
  pid: number;
  pidSource?: 'otlp_connection';
  serviceName: string;
}

/** Kinds that name the operation a kernel event served; outer kinds (agent, chain, http) only frame it. */
const SEMANTIC: ReadonlySet<CanonicalKind> = new Set(['llm', 'tool', 'retriever', 'embedding', 'mcp_client', 'mcp_server']);

/** No row: what the lookups return when no span matches. */
export const NONE = -1;
/** `containing` without a pid filter (pids are never negative). */
const ANY_PID = -1;
const SEMANTIC_BIT = 1;
const CONNECTION_PID_BIT = 2;
/** The span's ids are not 16 + 8 bytes: kept as hex beside the row (never named by a traceparent). */
const ODD_IDS_BIT = 4;

/** Words per row in `ids`: the trace id's four big-endian 32-bit words, then the span id's two. */
const ID_WORDS = 6;
const FIRST_ROWS = 1024;
/** Duration levels of `byPidTime`: bucket widths 2^16 µs, then 4× per level. */
const LEVELS = 7;
const LEVEL0_SHIFT = 16;
const LONG = LEVELS;
const WIDTHS_US = Array.from({ length: LEVELS }, (_, level) => 2 ** (LEVEL0_SHIFT + 2 * level));
const PID_SLOTS = 1024;
const PID_SLOT_MASK = PID_SLOTS - 1;

/**
 * Rows chained per key hash, newest first, by arrival number (`seq`: the n-th row ever added), not by
 * slot: a chain entry whose number has left the index is the end of its chain, so a row leaving the
 * index is never unlinked. Linking a row touches one bucket; unlinking touched two more places, each
 * a cache miss in columns of megabytes (the head and tail of the bucket, the row before it). The
 * buckets are sized for the index's bound from its first row: since the chains hold arrival numbers,
 * not slots, growing the columns only moves `links` with the rows, nothing is chained again.
 */
class Chains {
  /** Per bucket, the arrival number of its newest row (NONE: empty); read directly only by `touchBuckets`. */
  readonly head: Float64Array;
  /**
   * Per slot, `stride` numbers: the arrival number of the next (older) row of the chain, or NONE;
   * with a stride of 2 the row's whole hash beside it, so a walk looking for one key reads one cache
   * line per row of another key sharing the bucket, not that row's columns too.
   */
  links = new Float64Array(0);
  readonly mask: number;

  constructor(
    buckets: number,
    readonly stride: 1 | 2,
  ) {
    this.head = new Float64Array(buckets).fill(NONE);
    this.mask = buckets - 1;
  }

  /** The arrival number of the newest row with this hash (NONE, or one that left: empty). */
  first(hash: number): number {
    return this.head[hash & this.mask]!;
  }

  push(slot: number, seq: number, hash: number): void {
    const b = hash & this.mask;
    const at = slot * this.stride;
    this.links[at] = this.head[b]!;
    if (this.stride === 2) this.links[at + 1] = hash;
    this.head[b] = seq;
  }
}

/**
 * Hashes of ids and pids, seeded per process: ids and pids are the sender's word, and a sender that
 * could choose ids landing in one bucket would make every lookup walk all its rows.
 */
const SEED = randomBytes(4).readUInt32LE(0);

function mix(h: number, w: number): number {
  h = Math.imul(h ^ w, 0x9e3779b1);
  return h ^ (h >>> 15);
}

const pidHash = (pid: number) => mix(SEED, pid | 0);

/** The 32-bit big-endian word at `at` of an id (bytes past its end read as 0). */
function word(id: Uint8Array, at: number): number {
  return ((id[at] ?? 0) * 0x1000000 + (((id[at + 1] ?? 0) << 16) | ((id[at + 2] ?? 0) << 8) | (id[at + 3] ?? 0))) >>> 0;
}

const idHash = (t0: number, t1: number, t2: number, t3: number, s0: number, s1: number) => mix(mix(mix(mix(mix(mix(SEED, t0), t1), t2), t3), s0), s1);

/** Spans `addAll` reads and hashes before adding any: a few kB of scratch, its buckets' reads all in flight at once. */
const CHUNK = 64;

/** What `addAll` read of a chunk's spans, by position in the chunk (`add` uses entry 0). */
class Scratch {
  readonly words = new Uint32Array(CHUNK * ID_WORDS);
  readonly idHashes = new Int32Array(CHUNK);
  readonly traceHashes = new Int32Array(CHUNK);
  readonly startUs = new Float64Array(CHUNK);
  readonly endUs = new Float64Array(CHUNK);
  /** What `touchBuckets` read (kept, so its loads are not dropped as unused). */
  readonly traceHeads = new Float64Array(CHUNK);
  readonly idHeads = new Float64Array(CHUNK);
  readonly newestHashes = new Float64Array(CHUNK);
  /** 1: the span's ids are not 16 + 8 bytes; their hex in `oddTraceIds` and `oddSpanIds`. */
  readonly odd = new Uint8Array(CHUNK);
  readonly oddTraceIds: string[] = new Array<string>(CHUNK).fill('');
  readonly oddSpanIds: string[] = new Array<string>(CHUNK).fill('');
}

const hexWord = (w: number) => w.toString(16).padStart(8, '0');

/** A span id that is not 16 + 8 bytes, kept as its hex (rare: no SDK sends one). */
interface OddIds {
  traceId: string;
  spanId: string;
}

/**
 * Spans seen in the last window, by id, by process and (operation spans only) by trace, as rows of
 * typed-array columns in a ring: no object or string per indexed span. Bounded at `max` rows (the
 * oldest goes when a new one needs its place); the columns grow by doubling up to that bound as
 * spans arrive and never shrink. Rows are addressed by number only until the index next changes.
 */
export class SpanIndex {
  private cap = 0;
  /** Slot of the oldest row, its arrival number (rows ever added before it), and how many rows there are. */
  private head = 0;
  private firstSeq = 0;
  private count = 0;
  private ids: Uint32Array = new Uint32Array(0);
  private startUs: Float64Array = new Float64Array(0);
  private endUs: Float64Array = new Float64Array(0);
  private arrivedMs: Float64Array = new Float64Array(0);
  private pids: Float64Array = new Float64Array(0);
  private ports: Float64Array = new Float64Array(0);
  private flags: Uint8Array = new Uint8Array(0);
  private services: string[] = [];
  private addresses: (string | undefined)[] = [];
  private byId = NO_CHAINS;
  /**
   * Rows with a pid, by pid, duration level and start: a span lasting at most `width` of its level
   * (65 ms, 262 ms, 1 s, 4 s, 17 s, 67 s, 4.5 min) is chained under the level's bucket its start is
   * in, a longer one under its pid alone (LONG); a time falls in one of a few buckets per level.
   */
  private byPidTime = NO_CHAINS;
  /** Rows per pid slot (pid hash, PID_SLOTS of them) and level: a query skips the levels its pid has none in. */
  private readonly levelRows = new Int32Array(PID_SLOTS * (LEVELS + 1));
  /** Operation spans only: `refine` (matcher.ts) is the one reader and wants only those. */
  private byTrace = NO_CHAINS;
  private readonly odd = new Map<number, OddIds>();
  private readonly oddKeys = new Map<string, number>();
  private readonly scratch = new Scratch();

  constructor(private readonly max: number) {}

  get size(): number {
    return this.count;
  }

  /** Indexes a span (once: a span id seen before is ignored); its row, NONE when ignored. */
  add(span: Span, view: CanonicalSpan | undefined, facts: ResourceFacts, arrivedAtMs: number): number {
    this.readSpan(span, 0);
    return this.insert(span, view, facts, arrivedAtMs, 0);
  }

  /**
   * Indexes spans of one resource as `add` does each, in order; returns the times the rows it added
   * cover (µs, `from` > `to` when none). In chunks of CHUNK: first every span's ids and times are read
   * and hashed, then the hash buckets they will touch are read in a tight loop, then the rows are
   * added. The buckets and chains are megabytes read at random: one span after another, each miss
   * waited for the next; read together, the CPU has many in flight at once.
   */
  addAll(spans: readonly Span[], views: readonly (CanonicalSpan | undefined)[], facts: ResourceFacts, arrivedAtMs: number, covered: { from: number; to: number }): void {
    covered.from = Infinity;
    covered.to = -Infinity;
    for (let first = 0; first < spans.length; first += CHUNK) {
      const n = Math.min(CHUNK, spans.length - first);
      for (let i = 0; i < n; i++) this.readSpan(spans[first + i]!, i);
      this.touchBuckets(n);
      for (let i = 0; i < n; i++) {
        const row = this.insert(spans[first + i]!, views[first + i], facts, arrivedAtMs, i);
        if (row === NONE) continue;
        if (this.startUs[row]! < covered.from) covered.from = this.startUs[row]!;
        if (this.endUs[row]! > covered.to) covered.to = this.endUs[row]!;
      }
    }
  }

  /** A span's ids (as words, hashed) and times into the scratch's entry `i`. */
  private readSpan(span: Span, i: number): void {
    const s = this.scratch;
    // The ids where they are (a received span's inside its request: no Buffer per id), each word read once.
    const tid = locateId(span, 'traceId');
    const tBuf = tid.buf;
    const tAt = tid.at;
    const tLength = tid.length;
    const sid = locateId(span, 'spanId'); // the same answer object, now the span id's: the trace id's is copied above
    const odd = tLength !== 16 || sid.length !== 8;
    // An id of another length is read from its own bytes (past its end they read as 0), and kept as hex.
    const traceId = odd ? tBuf.subarray(tAt, tAt + tLength) : undefined;
    const spanId = odd ? sid.buf.subarray(sid.at, sid.at + sid.length) : undefined;
    const w = i * ID_WORDS;
    const words = s.words;
    words[w] = traceId ? word(traceId, 0) : word(tBuf, tAt);
    words[w + 1] = traceId ? word(traceId, 4) : word(tBuf, tAt + 4);
    words[w + 2] = traceId ? word(traceId, 8) : word(tBuf, tAt + 8);
    words[w + 3] = traceId ? word(traceId, 12) : word(tBuf, tAt + 12);
    words[w + 4] = spanId ? word(spanId, 0) : word(sid.buf, sid.at);
    words[w + 5] = spanId ? word(spanId, 4) : word(sid.buf, sid.at + 4);
    if (traceId && spanId) {
      s.oddTraceIds[i] = idHex(traceId);
      s.oddSpanIds[i] = idHex(spanId);
    }
    const trace = mix(mix(mix(mix(SEED, words[w]!), words[w + 1]!), words[w + 2]!), words[w + 3]!);
    s.traceHashes[i] = trace;
    s.idHashes[i] = mix(mix(trace, words[w + 4]!), words[w + 5]!);
    s.odd[i] = odd ? 1 : 0;
    s.startUs[i] = startMicros(span);
    s.endUs[i] = endMicros(span);
  }

  /**
   * Reads the first `n` scratch entries' id and trace buckets, and the newest row of each id bucket
   * (what the duplicate check reads), keeping what it read in the scratch so the loads stay.
   */
  private touchBuckets(n: number): void {
    const s = this.scratch;
    // Everything a load needs in locals, so an iteration is a few instructions and the CPU's window
    // holds many of these loads at once (with the fields read per iteration, few were in flight).
    const { traceHashes, idHashes, traceHeads, idHeads, newestHashes } = s;
    const traceHead = this.byTrace.head;
    const traceMask = this.byTrace.mask;
    const idHead = this.byId.head;
    const idMask = this.byId.mask;
    for (let i = 0; i < n; i++) {
      traceHeads[i] = traceHead[traceHashes[i]! & traceMask]!;
      idHeads[i] = idHead[idHashes[i]! & idMask]!;
    }
    // The chains' newest rows, once their buckets are read: these loads are in flight together too.
    const links = this.byId.links;
    for (let i = 0; i < n; i++) {
      const row = this.slotOf(idHeads[i]!);
      newestHashes[i] = row === NONE ? NONE : links[2 * row + 1]!;
    }
  }

  /** Adds the span read into the scratch's entry `i` (see `add`). */
  private insert(span: Span, view: CanonicalSpan | undefined, facts: ResourceFacts, arrivedAtMs: number, i: number): number {
    const s = this.scratch;
    const words = s.words;
    const at = i * ID_WORDS;
    const t0 = words[at]!;
    const t1 = words[at + 1]!;
    const t2 = words[at + 2]!;
    const t3 = words[at + 3]!;
    const s0 = words[at + 4]!;
    const s1 = words[at + 5]!;
    const oddIds = s.odd[i] === 1;
    const hash = s.idHashes[i]!;
    let oddKey = '';
    if (oddIds) {
      oddKey = `${s.oddTraceIds[i]}:${s.oddSpanIds[i]}`;
      if (this.oddKeys.has(oddKey)) return NONE;
    } else if (this.findId(t0, t1, t2, t3, s0, s1, hash) !== NONE) return NONE;
    if (this.count === this.cap) {
      if (this.cap < this.max) this.grow();
      else this.dropOldest();
    }
    const seq = this.firstSeq + this.count;
    const row = this.wrap(this.head + this.count);
    this.count++;
    const w = row * ID_WORDS;
    const ids = this.ids;
    ids[w] = t0;
    ids[w + 1] = t1;
    ids[w + 2] = t2;
    ids[w + 3] = t3;
    ids[w + 4] = s0;
    ids[w + 5] = s1;
    this.startUs[row] = s.startUs[i]!;
    this.endUs[row] = s.endUs[i]!;
    this.arrivedMs[row] = arrivedAtMs;
    this.pids[row] = facts.pid;
    this.ports[row] = view?.serverPort ?? NaN;
    this.services[row] = facts.serviceName;
    this.addresses[row] = view?.serverAddress;
    const semantic = view !== undefined && SEMANTIC.has(view.kind);
    this.flags[row] = (semantic ? SEMANTIC_BIT : 0) | (facts.pidSource ? CONNECTION_PID_BIT : 0) | (oddIds ? ODD_IDS_BIT : 0);
    if (oddIds) {
      this.odd.set(row, { traceId: s.oddTraceIds[i]!, spanId: s.oddSpanIds[i]! });
      this.oddKeys.set(oddKey, row);
    } else this.byId.push(row, seq, hash);
    if (facts.pid) {
      const level = this.levelOf(row);
      this.byPidTime.push(row, seq, this.pidTimeHash(row, level));
      this.countLevel(row, level, 1);
    }
    if (semantic) this.byTrace.push(row, seq, s.traceHashes[i]!);
    return row;
  }

  /** The row of the span with these (lower-case hex, W3C-sized) ids; NONE when not indexed. */
  get(traceId: string, spanId: string): number {
    if (traceId.length !== 32 || spanId.length !== 16) return NONE;
    const w = (hex: string, at: number) => parseInt(hex.slice(at, at + 8), 16) >>> 0;
    const t0 = w(traceId, 0);
    const t1 = w(traceId, 8);
    const t2 = w(traceId, 16);
    const t3 = w(traceId, 24);
    const s0 = w(spanId, 0);
    const s1 = w(spanId, 8);
    return this.findId(t0, t1, t2, t3, s0, s1, idHash(t0, t1, t2, t3, s0, s1));
  }

  semantic(row: number): boolean {
    return (this.flags[row]! & SEMANTIC_BIT) !== 0;
  }

  pid(row: number): number {
    return this.pids[row]!;
  }

  serverPort(row: number): number | undefined {
    const p = this.ports[row]!;
    return Number.isNaN(p) ? undefined : p;
  }

  serverAddress(row: number): string | undefined {
    return this.addresses[row];
  }

  arrivedAtMs(row: number): number {
    return this.arrivedMs[row]!;
  }

  /** The span's start and end, µs. */
  startOf(row: number): number {
    return this.startUs[row]!;
  }

  endOf(row: number): number {
    return this.endUs[row]!;
  }

  /** The row's arrival number: names it for as long as it stays in the index, whatever moves (see `rowOf`). */
  seqOf(row: number): number {
    return this.firstSeq + this.order(row);
  }

  /** The row of the span that arrived `seq`-th; NONE once it left the index. */
  rowOf(seq: number): number {
    return this.slotOf(seq);
  }

  /** What a placement hands on of the row (a new object, for the span builder; placements of one round share it). */
  ref(row: number): SpanRef {
    const odd = this.odd.get(row);
    const w = row * ID_WORDS;
    const ids = this.ids;
    return {
      traceId: odd ? odd.traceId : hexWord(ids[w]!) + hexWord(ids[w + 1]!) + hexWord(ids[w + 2]!) + hexWord(ids[w + 3]!),
      spanId: odd ? odd.spanId : hexWord(ids[w + 4]!) + hexWord(ids[w + 5]!),
      pid: this.pids[row]!,
      pidSource: this.flags[row]! & CONNECTION_PID_BIT ? 'otlp_connection' : undefined,
      serviceName: this.services[row]!,
      arrivedAtMs: this.arrivedMs[row]!,
    };
  }

  /**
   * The innermost span of process `pid` containing `timeUs` that `accept` takes (see `innermost`);
   * NONE when there is none. Only the rows of `pid` that could contain the time are looked at (see
   * `byPidTime`), so an agent with thousands of spans in the window costs what one with a few does.
   */
  innermostOfPid(pid: number, timeUs: number, toleranceUs: number, accept?: (row: number) => boolean): number {
    const exact = this.containingOfPid(pid, accept, timeUs, 0);
    return exact !== NONE || toleranceUs <= 0 ? exact : this.containingOfPid(pid, accept, timeUs, toleranceUs);
  }

  /** The same among the operation spans of `row`'s trace. */
  innermostOfTrace(row: number, timeUs: number, toleranceUs: number, accept?: (row: number) => boolean): number {
    const member = (r: number) => this.sameTrace(r, row) && (!accept || accept(r));
    const hash = this.traceHash(row);
    const exact = this.containing(this.byTrace, hash, ANY_PID, member, timeUs, 0, NONE);
    return exact !== NONE || toleranceUs <= 0 ? exact : this.containing(this.byTrace, hash, ANY_PID, member, timeUs, toleranceUs, NONE);
  }

  /**
   * Whether a span of process `pid` starts or ends from `fromUs` to `toUs` (inclusive): only then can
   * `innermostOfPid` answer differently for two times in between (correlate looks a run of opens up
   * once when none does). Walks the chains `innermostOfPid` would for the times' buckets.
   */
  edgeOfPid(pid: number, fromUs: number, toUs: number): boolean {
    const ph = pidHash(pid);
    const counts = (ph & PID_SLOT_MASK) * (LEVELS + 1);
    if (this.levelRows[counts + LONG] && this.edgeIn(mix(ph, LONG), pid, fromUs, toUs)) return true;
    for (let level = 0; level < LEVELS; level++) {
      if (this.levelRows[counts + level] === 0) continue;
      const width = WIDTHS_US[level]!;
      // A row of this level ending in the range starts at most `width` before it.
      const last = Math.floor(toUs / width);
      for (let b = Math.floor((fromUs - width) / width); b <= last; b++) if (this.edgeIn(mix(mix(ph, level), b | 0), pid, fromUs, toUs)) return true;
    }
    return false;
  }

  /** Forgets spans that arrived before `beforeMs` (oldest first); returns how many. */
  evict(beforeMs: number): number {
    let n = 0;
    while (this.count > 0 && this.arrivedMs[this.head]! < beforeMs) {
      this.dropOldest();
      n++;
    }
    return n;
  }

  /** Every chain of `pid`'s rows that can hold one containing `timeUs` give or take `toleranceUs`. */
  private containingOfPid(pid: number, accept: ((row: number) => boolean) | undefined, timeUs: number, toleranceUs: number): number {
    const ph = pidHash(pid);
    const counts = (ph & PID_SLOT_MASK) * (LEVELS + 1);
    let best = this.levelRows[counts + LONG] ? this.containing(this.byPidTime, mix(ph, LONG), pid, accept, timeUs, toleranceUs, NONE) : NONE;
    for (let level = 0; level < LEVELS; level++) {
      if (this.levelRows[counts + level] === 0) continue; // no span of this pid (or one sharing its slot) lasts this long
      const width = WIDTHS_US[level]!;
      // A row of this level starts at most `width` before its end, so one containing the time starts in here.
      const last = Math.floor((timeUs + toleranceUs) / width);
      for (let b = Math.floor((timeUs - toleranceUs - width) / width); b <= last; b++) best = this.containing(this.byPidTime, mix(mix(ph, level), b | 0), pid, accept, timeUs, toleranceUs, best);
    }
    return best;
  }

  /**
   * The innermost of `best` and the rows of one chain containing `timeUs` (latest start, then
   * earliest end), preferring spans that name an operation (LLM call, tool call) over the HTTP or
   * chain spans around or beside them; among equals, the one that arrived first. Callers try
   * without the clock tolerance first: with it, the next operation (starting a few ms after the
   * event) would otherwise win as "latest start".
   */
  private containing(chains: Chains, hash: number, pid: number, accept: ((row: number) => boolean) | undefined, timeUs: number, toleranceUs: number, best: number): number {
    const { startUs, endUs, pids } = this;
    const links = chains.links;
    const stride = chains.stride;
    for (let row = this.slotOf(chains.first(hash)); row !== NONE; row = this.slotOf(links[row * stride]!)) {
      if (timeUs < startUs[row]! - toleranceUs || timeUs > endUs[row]! + toleranceUs || (pid !== ANY_PID && pids[row] !== pid) || (accept && !accept(row))) continue;
      if (best === NONE || this.inner(row, best)) best = row;
    }
    return best;
  }

  /** Whether a row of `pid` in one `byPidTime` chain starts or ends from `fromUs` to `toUs`. */
  private edgeIn(hash: number, pid: number, fromUs: number, toUs: number): boolean {
    const { startUs, endUs, pids } = this;
    const links = this.byPidTime.links;
    for (let row = this.slotOf(this.byPidTime.first(hash)); row !== NONE; row = this.slotOf(links[row]!)) {
      if (pids[row] !== pid) continue;
      const start = startUs[row]!;
      const end = endUs[row]!;
      if ((start >= fromUs && start <= toUs) || (end >= fromUs && end <= toUs)) return true;
    }
    return false;
  }

  /** Whether `a` is innermore than `b` (see `containing`). */
  private inner(a: number, b: number): boolean {
    const semantic = (this.flags[a]! & SEMANTIC_BIT) !== 0;
    if (semantic !== ((this.flags[b]! & SEMANTIC_BIT) !== 0)) return semantic;
    const sa = this.startUs[a]!;
    const sb = this.startUs[b]!;
    if (sa !== sb) return sa > sb;
    const ea = this.endUs[a]!;
    const eb = this.endUs[b]!;
    if (ea !== eb) return ea < eb;
    return this.order(a) < this.order(b);
  }

  /** The slot of the row with arrival number `seq`; NONE when that row has left the index (or for NONE). */
  private slotOf(seq: number): number {
    const age = seq - this.firstSeq;
    if (age < 0) return NONE;
    return this.wrap(this.head + age);
  }

  /** How many rows arrived before `row`. */
  private order(row: number): number {
    return this.wrap(row + this.cap - this.head);
  }

  /**
   * `at` (below 2 × cap) as a slot of the ring. The subtraction runs whether or not `at` wraps: a
   * branch that runs only once the ring has gone round once has no type feedback until then, and
   * V8 threw away the optimised code of every lookup that inlined it when a warm collector's index
   * first wrapped.
   */
  private wrap(at: number): number {
    return at - (at >= this.cap ? this.cap : 0);
  }

  /** The duration level of a row: the first whose width its duration fits, else LONG. */
  private levelOf(row: number): number {
    const duration = this.endUs[row]! - this.startUs[row]!;
    let level = 0;
    while (level < LEVELS && !(duration <= WIDTHS_US[level]!)) level++;
    return level;
  }

  /** `byPidTime`'s key of a row at `level`: its pid, and the bucket of its start there (none for LONG). */
  private pidTimeHash(row: number, level: number): number {
    const ph = mix(pidHash(this.pids[row]!), level);
    return level === LONG ? ph : mix(ph, Math.floor(this.startUs[row]! / WIDTHS_US[level]!) | 0);
  }

  /** Counts `row` in (+1) or out (-1) of the rows of its pid's slot at its level. */
  private countLevel(row: number, level: number, by: number): void {
    this.levelRows[(pidHash(this.pids[row]!) & PID_SLOT_MASK) * (LEVELS + 1) + level]! += by;
  }

  private findId(t0: number, t1: number, t2: number, t3: number, s0: number, s1: number, hash: number): number {
    const ids = this.ids;
    const links = this.byId.links;
    for (let row = this.slotOf(this.byId.first(hash)); row !== NONE; row = this.slotOf(links[2 * row]!)) {
      if (links[2 * row + 1] !== hash) continue;
      const w = row * ID_WORDS;
      if (ids[w + 5] === s1 && ids[w + 4] === s0 && ids[w + 3] === t3 && ids[w + 2] === t2 && ids[w + 1] === t1 && ids[w] === t0) return row;
    }
    return NONE;
  }

  private traceHash(row: number): number {
    const w = row * ID_WORDS;
    const ids = this.ids;
    return mix(mix(mix(mix(SEED, ids[w]!), ids[w + 1]!), ids[w + 2]!), ids[w + 3]!);
  }

  private sameTrace(a: number, b: number): boolean {
    const oddA = this.odd.get(a);
    const oddB = this.odd.get(b);
    if (oddA || oddB) return oddA?.traceId === oddB?.traceId;
    const ids = this.ids;
    const wa = a * ID_WORDS;
    const wb = b * ID_WORDS;
    return ids[wa] === ids[wb] && ids[wa + 1] === ids[wb + 1] && ids[wa + 2] === ids[wb + 2] && ids[wa + 3] === ids[wb + 3];
  }

  /** The oldest row leaves; its chain entries end their chains from now on (see Chains). */
  private dropOldest(): void {
    const row = this.head;
    if (this.flags[row]! & ODD_IDS_BIT) {
      const odd = this.odd.get(row)!;
      this.oddKeys.delete(`${odd.traceId}:${odd.spanId}`);
      this.odd.delete(row);
    }
    if (this.pids[row]) this.countLevel(row, this.levelOf(row), -1);
    this.services[row] = '';
    this.addresses[row] = undefined;
    this.head = this.head + 1 === this.cap ? 0 : this.head + 1;
    this.firstSeq++;
    this.count--;
  }

  /**
   * Twice the rows (up to `max`), when every slot is taken: the rows move to slots 0.. in arrival
   * order, two block copies per column. The first call makes the chains' buckets, for `max` rows
   * (twice that for ids).
   */
  private grow(): void {
    const old = this.cap;
    const cap = Math.min(this.max, Math.max(FIRST_ROWS, old * 2));
    if (old === 0) {
      let buckets = 1;
      while (buckets < this.max) buckets *= 2;
      // Twice the buckets for ids: every span's duplicate check walks its id's whole chain (a fresh id is
      // found in none), each row a cache miss; at most half as many rows as buckets halves the walk
      // (bench/README.md, branch x-corr). Trace and pid chains are walked by lookups only.
      this.byId = new Chains(buckets * 2, 2);
      this.byTrace = new Chains(buckets, 1);
      this.byPidTime = new Chains(buckets, 1);
    }
    const head = this.head;
    const moved = <T extends Float64Array | Uint32Array | Uint8Array>(col: T, make: (n: number) => T, width = 1): T => {
      const out = make(cap * width);
      out.set(col.subarray(head * width));
      out.set(col.subarray(0, head * width), (old - head) * width);
      return out;
    };
    const f64 = (n: number) => new Float64Array(n);
    this.ids = moved(this.ids, (n) => new Uint32Array(n), ID_WORDS);
    this.startUs = moved(this.startUs, f64);
    this.endUs = moved(this.endUs, f64);
    this.arrivedMs = moved(this.arrivedMs, f64);
    this.pids = moved(this.pids, f64);
    this.ports = moved(this.ports, f64);
    this.flags = moved(this.flags, (n) => new Uint8Array(n));
    for (const chains of [this.byId, this.byTrace, this.byPidTime]) chains.links = moved(chains.links, f64, chains.stride);
    const services = new Array<string>(cap).fill('');
    const addresses = new Array<string | undefined>(cap).fill(undefined);
    for (let i = 0, from = head; i < old; i++, from = from + 1 === old ? 0 : from + 1) {
      services[i] = this.services[from]!;
      addresses[i] = this.addresses[from];
    }
    this.services = services;
    this.addresses = addresses;
    const odd = [...this.odd];
    this.odd.clear();
    for (const [from, o] of odd) {
      const to = from >= head ? from - head : from + old - head;
      this.odd.set(to, o);
      this.oddKeys.set(`${o.traceId}:${o.spanId}`, to);
    }
    this.cap = cap;
    this.head = 0;
  }
}

/** The chains of an index with no row yet (its first row makes them, sized for its bound). */
const NO_CHAINS = new Chains(1, 1);

