/**
 * A hashed index of one piece of content (a tool result, a user request, a tool call's arguments):
 * what provenance keeps of it while the trace is open. Only 53-bit hashes are kept, never the text:
 * - tokens: runs of URL/path/e-mail characters in the normalised text, plus the forms a value is
 *   written in elsewhere (a URL's host, a path's trailing segments, an IBAN or account number
 *   without its spacing), for exact look-ups of single-token values;
 * - fingerprints: winnowed 8-character shingles (window 8), so any value of 15 characters or more
 *   that occurs anywhere in the text is found by containment (commands, sentences, values that span
 *   several tokens), whatever the text around it.
 * False matches are hash collisions only (about n / 2^53 per look-up).
 */

import { endianness } from 'node:os';

/** Shingle length and winnowing window: any shared substring of K + W - 1 characters is found. */
const K = 8;
const W = 8;
/** Shortest value looked up by containment (K + W - 1). */
export const MIN_TEXT_MATCH = K + W - 1;
/** Shortest token indexed. */
export const MIN_TOKEN = 3;
/** Path suffixes indexed per token (`a/b/c.csv`: `b/c.csv`, `c.csv`). */
const MAX_SUFFIXES = 6;

/** ASCII characters folded to a space: whitespace, backslash, quotes, backtick. */
const FOLD = new Uint8Array(128);
for (const c of '\t\n\v\f\r \\"\'`') FOLD[c.charCodeAt(0)] = 1;

/** Whether a character is one `normalizeText` folds: an ASCII one above, or what `\s` matches beyond ASCII. */
function folds(c: number): boolean {
  if (c < 128) return FOLD[c] === 1;
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/** Scratch entries kept between calls; a list grown past it for one large text is given back. */
const SCRATCH_KEEP = 1 << 16;

const BIG_ENDIAN = endianness() === 'BE';

/** The normalised text's character codes, reused from one call to the next (given back above SCRATCH_KEEP). */
let normalized = new Uint16Array(1024);

/**
 * Lower case; JSON/Python escapes (`\n`, `\"`), quotes and backticks become spaces; whitespace
 * collapsed. The same function runs on content and on looked-up values, so escape levels (a tool
 * result JSON inside a span attribute inside a message) do not matter. One pass (it runs on every
 * character of content); the same result as, in order, `.replace(/\\+[nrt]/g, ' ')`,
 * `.replace(/[\\"'`]+/g, ' ')`, `.replace(/\s+/g, ' ')` and `.trim()` (values.test.ts). The
 * characters kept go into a reused array, made a flat string once (natively, as UTF-16): joining the
 * runs made a slice and a concatenation per word, and the passes after read the joined text through
 * its concatenations (this function ~9.4 -> 5.0 ns a character, `ContentIndex.add` 47 -> 37:
 * bench/README.md, branch v-json).
 */
export function normalizeText(s: string): string {
  const t = s.toLowerCase();
  const n = t.length;
  if (normalized.length < n) normalized = new Uint16Array(n);
  const o = normalized;
  let p = 0;
  let i = 0;
  while (i < n) {
    const c = t.charCodeAt(i);
    if (!folds(c)) {
      o[p++] = c;
      i++;
      continue;
    }
    // A run of folded characters (backslashes with the escape letter after them) is one space, none at the start.
    if (p > 0) o[p++] = 32;
    while (i < n) {
      const c = t.charCodeAt(i);
      if (c === 92 /* \\ */) {
        while (i < n && t.charCodeAt(i) === 92) i++;
        const e = t.charCodeAt(i);
        if (e === 110 /* n */ || e === 114 /* r */ || e === 116 /* t */) i++;
      } else if (folds(c)) i++;
      else break;
    }
  }
  // None at the end either.
  if (p > 0 && o[p - 1] === 32) p--;
  const bytes = Buffer.from(o.buffer, 0, 2 * p);
  // The array is in the machine's byte order; UTF-16LE is read.
  if (BIG_ENDIAN) bytes.swap16();
  const text = bytes.toString('utf16le');
  if (normalized.length > SCRATCH_KEEP) normalized = new Uint16Array(1024);
  return text;
}

/** Token characters (`[a-z0-9._@:/~+%?&#-]`, after normalisation). */
const TOKEN_CHAR = new Uint8Array(128);
for (const c of 'abcdefghijklmnopqrstuvwxyz0123456789._@:/~+%?&#-') TOKEN_CHAR[c.charCodeAt(0)] = 1;
/** IBAN as written (spaced or not), after normalisation (lower case). */
export const IBAN_TEXT = /\b[a-z]{2}\d{2}(?: ?[a-z0-9]{4}){2,7}(?: ?[a-z0-9]{1,4})?\b/g;
/** Account, card or phone-like digit runs of 8+ digits with spaces or dashes between groups (read by `digitRuns`). */
export const DIGITS_TEXT = /\d(?:[ -]?\d){7,33}/g;

/** Characters trimmed from a token's start and end (all ASCII). */
const LEAD = new Uint8Array(128);
for (const c of '.:?&#,~+-') LEAD[c.charCodeAt(0)] = 1;
const TRAIL = new Uint8Array(128);
for (const c of '.:,?&#/~+-') TRAIL[c.charCodeAt(0)] = 1;

/** A token with its edges trimmed, or '' when too short. */
export function cleanToken(t: string): string {
  let a = 0;
  let b = t.length;
  while (a < b && LEAD[t.charCodeAt(a)] === 1) a++;
  while (b > a && TRAIL[t.charCodeAt(b - 1)] === 1) b--;
  return b - a >= MIN_TOKEN ? (a === 0 && b === t.length ? t : t.slice(a, b)) : '';
}

/** Host of a `scheme://` token (no userinfo, no port), or undefined. */
export function tokenHost(t: string): string | undefined {
  const at = t.indexOf('://');
  if (at <= 0) return undefined;
  let rest = t.slice(at + 3);
  const end = rest.search(/[/?#]/);
  if (end >= 0) rest = rest.slice(0, end);
  rest = rest.slice(rest.lastIndexOf('@') + 1);
  const colon = rest.lastIndexOf(':');
  if (colon > 0 && /^\d+$/.test(rest.slice(colon + 1))) rest = rest.slice(0, colon);
  return rest.length >= MIN_TOKEN ? rest : undefined;
}

/** The forms a token is also written in: host of a URL, trailing path segments, ip without port. */
export function tokenForms(t: string, out: string[]): void {
  out.push(t);
  if (t.indexOf('/') < 0 && t.indexOf(':') < 0) return;
  const host = tokenHost(t);
  if (host) out.push(host);
  if (host || t.includes('/')) {
    let from = t.indexOf('://') >= 0 ? t.indexOf('/', t.indexOf('://') + 3) : 0;
    let n = 0;
    while (from >= 0 && n < MAX_SUFFIXES) {
      const slash = t.indexOf('/', from + 1);
      if (slash < 0) break;
      const s = t.slice(slash + 1);
      if (s.length >= MIN_TOKEN) out.push(s);
      from = slash;
      n++;
    }
  }
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(t);
  if (m) out.push(m[1]!);
}

/** 53-bit hash: two 32-bit FNV-1a variants. */
export function hash(s: string): number {
  return hashRange(s, 0, s.length, -1, -1);
}

/** `hash` of `s.slice(a, b)` without the characters `skip1` and `skip2` (an IBAN's spaces, an account's dashes), sliced never. */
function hashRange(s: string, a: number, b: number, skip1: number, skip2: number): number {
  let x = 0x811c9dc5;
  let y = 0x01000193;
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    if (c === skip1 || c === skip2) continue;
    x = Math.imul(x ^ c, 0x01000193);
    y = Math.imul(y ^ c, 0x5bd1e995);
    y ^= y >>> 15;
  }
  return (x >>> 0) * 0x200000 + ((y >>> 0) & 0x1fffff);
}

/** Polynomial base of the shingle hash, and its (K-1)th power (mod 2^32), to roll the hash along the text. */
const B = 0x01000193;
const B_K1 = (() => {
  let p = 1;
  for (let j = 1; j < K; j++) p = Math.imul(p, B);
  return p;
})();

/** Murmur3's finaliser: the winnowing minimum needs evenly spread hashes; 30 bits kept. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h & 0x3fffffff;
}

/**
 * A list of hashes reused from one call to the next (one `add` runs at a time): the hashes of a text
 * are collected in place, not in a fresh array per text.
 */
export class HashList {
  n = 0;
  a: Float64Array | Int32Array;

  constructor(readonly wide: boolean) {
    this.a = wide ? new Float64Array(1024) : new Int32Array(1024);
  }

  push(h: number): void {
    if (this.n === this.a.length) {
      const b = this.wide ? new Float64Array(this.n * 2) : new Int32Array(this.n * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = h;
  }

  clear(): void {
    this.n = 0;
    if (this.a.length > SCRATCH_KEEP) this.a = this.wide ? new Float64Array(1024) : new Int32Array(1024);
  }
}

/** The last W grams, by position mod W (W is a power of two). */
const RING = new Int32Array(W);

/**
 * Winnowed shingle hashes of normalised text (K-grams, the rightmost minimum of every W consecutive,
 * a minimum pushed once): one pass, each K-gram's hash rolled from the previous one (a few operations
 * a character, not K), only the window's W grams held. Hashes are 30-bit so they stay small integers in V8.
 */
export function fingerprints(t: string, out: HashList): void {
  const n = t.length - K + 1;
  if (n <= 0) return;
  let h = 0;
  for (let j = 0; j < K; j++) h = (Math.imul(h, B) + t.charCodeAt(j)) | 0;
  RING[0] = mix(h);
  const first = Math.min(W, n);
  for (let i = 1; i < first; i++) {
    h = (Math.imul((h - Math.imul(t.charCodeAt(i - 1), B_K1)) | 0, B) + t.charCodeAt(i + K - 1)) | 0;
    RING[i] = mix(h);
  }
  // The first window (the only one of a text shorter than K + W - 1).
  let last = 0;
  let min = RING[0]!;
  for (let j = 1; j < first; j++) if (RING[j]! <= min) (last = j), (min = RING[j]!);
  out.push(min);
  // Window i = j - W + 1 adds gram j: the minimum changes if gram j beats it, or if it slid out.
  for (let j = W; j < n; j++) {
    h = (Math.imul((h - Math.imul(t.charCodeAt(j - 1), B_K1)) | 0, B) + t.charCodeAt(j + K - 1)) | 0;
    const g = mix(h);
    RING[j & (W - 1)] = g;
    const i = j - W + 1;
    if (last >= i) {
      if (g <= min) {
        last = j;
        min = g;
        out.push(g);
      }
      continue;
    }
    last = i;
    min = RING[i & (W - 1)]!;
    for (let k = i + 1; k <= j; k++) if (RING[k & (W - 1)]! <= min) (last = k), (min = RING[k & (W - 1)]!);
    out.push(min);
  }
}

/**
 * Digit runs as `DIGITS_TEXT` finds them (`matchAll`), hashed without their spaces and dashes. The
 * expression is deterministic: from a digit, each step takes a separator only with a digit after
 * it, so its match is the longest such chain, if it has 8 digits (at most 34); a shorter chain
 * fails from every digit in it, so the search goes on after it.
 */
function digitRuns(t: string, out: HashList): void {
  const n = t.length;
  for (let i = 0; i < n; ) {
    const c = t.charCodeAt(i);
    if (c < 48 || c > 57) {
      i++;
      continue;
    }
    let j = i + 1;
    let digits = 1;
    while (digits < 34 && j < n) {
      const d = t.charCodeAt(j);
      if (d >= 48 && d <= 57) j++;
      else if ((d === 32 || d === 45) && j + 1 < n && t.charCodeAt(j + 1) >= 48 && t.charCodeAt(j + 1) <= 57) j += 2;
      else break;
      digits++;
    }
    if (digits >= 8) out.push(hashRange(t, i, j, 32, 45));
    i = j;
  }
}

const fold: string[] = [];

/**
 * The hashes of every token form of a normalised text, with IBANs and digit runs compacted, in the
 * order `tokenForms` gives them. A token without `/` or `:` (once trimmed) is its only form: hashed where it stands.
 */
export function tokenHashes(t: string, out: HashList): void {
  const n = t.length;
  for (let i = 0; i < n; ) {
    let c = t.charCodeAt(i);
    if (c >= 128 || TOKEN_CHAR[c] !== 1) {
      i++;
      continue;
    }
    // One pass over the token: its leading characters skipped, then hashed as read; the hash is
    // taken as it stood after the last character that is not trimmed from the end.
    let a = -1;
    let b = -1;
    let sep = -1; // the first `/` or `:` after `a`
    let x = 0x811c9dc5;
    let y = 0x01000193;
    let bx = x;
    let by = y;
    for (; i < n && (c = t.charCodeAt(i)) < 128 && TOKEN_CHAR[c] === 1; i++) {
      if (a < 0) {
        if (LEAD[c] === 1) continue;
        a = b = i;
      }
      if ((c === 47 /* / */ || c === 58) /* : */ && sep < 0) sep = i;
      x = Math.imul(x ^ c, 0x01000193);
      y = Math.imul(y ^ c, 0x5bd1e995);
      y ^= y >>> 15;
      if (TRAIL[c] !== 1) (b = i + 1), (bx = x), (by = y);
    }
    if (a < 0 || b - a < MIN_TOKEN) continue;
    if (sep < 0 || sep >= b) {
      out.push((bx >>> 0) * 0x200000 + ((by >>> 0) & 0x1fffff));
      continue;
    }
    fold.length = 0;
    tokenForms(t.slice(a, b), fold);
    for (const f of fold) out.push(hash(f));
  }
  for (const m of t.matchAll(IBAN_TEXT)) out.push(hashRange(m[0], 0, m[0].length, 32, -1));
  digitRuns(t, out);
}

/** Batches of fingerprints at least this long are sorted by radix (faster than the TypedArray sort from about 500 entries). */
const RADIX_MIN = 512;
const RADIX_COUNTS = new Int32Array(1025);
let radixSpare = new Int32Array(1024);

/** `a.subarray(0, n)` sorted: 30-bit non-negative values, three passes of 10 bits (LSD), ending in `a`'s memory. */
function radixSort(a: Int32Array, n: number): Int32Array {
  if (radixSpare.length < n) radixSpare = new Int32Array(n);
  let src: Int32Array = a;
  let dst: Int32Array = radixSpare;
  for (let shift = 0; shift < 30; shift += 10) {
    RADIX_COUNTS.fill(0);
    for (let i = 0; i < n; i++) RADIX_COUNTS[((src[i]! >>> shift) & 1023) + 1]!++;
    for (let i = 1; i <= 1024; i++) RADIX_COUNTS[i]! += RADIX_COUNTS[i - 1]!;
    for (let i = 0; i < n; i++) {
      const v = src[i]!;
      dst[RADIX_COUNTS[(v >>> shift) & 1023]!++] = v;
    }
    const t = src;
    src = dst;
    dst = t;
  }
  // Three passes: the sorted values are in the spare; copied back so the batch owns them.
  a.set(src.subarray(0, n));
  if (radixSpare.length > SCRATCH_KEEP) radixSpare = new Int32Array(1024);
  return a.subarray(0, n);
}

/**
 * `a.subarray(0, n)` sorted in place, as unsigned 64-bit integers: token hashes are non-negative
 * integers below 2^53, whose IEEE-754 bit patterns are in the same order as their values, and an
 * integer sort skips the NaN and -0 cases a Float64Array sort handles (two to three times faster).
 */
function sortTokens(a: Float64Array, n: number): Float64Array {
  new BigUint64Array(a.buffer, a.byteOffset, n).sort();
  return a.subarray(0, n);
}

/** The merge's output before it is copied out at its size (given back above SCRATCH_KEEP). */
let mergeWide: Float64Array = new Float64Array(1024);
let mergeNarrow: Int32Array = new Int32Array(1024);

const NO_TOKENS = new Float64Array(0);
const NO_PRINTS = new Int32Array(0);

/**
 * A set of hashes as one sorted typed array, 4 (fingerprints) or 8 (tokens) bytes an entry where a JS
 * Set costs about 13; filled in batches (a piece of content at a time), looked up by binary search.
 */
class SortedHashes {
  /** Starts as one shared empty array (never written: `addAll` replaces it). */
  private a: Float64Array | Int32Array;

  constructor(private readonly wide: boolean) {
    this.a = wide ? NO_TOKENS : NO_PRINTS;
  }

  get size(): number {
    return this.a.length;
  }

  get bytes(): number {
    return this.a.byteLength;
  }

  /** Adds a batch (any order, duplicates allowed; sorted in place); returns how many were new. */
  addAll(batch: HashList): number {
    if (batch.n === 0) return 0;
    const b = batch.wide ? sortTokens(batch.a as Float64Array, batch.n) : batch.n < RADIX_MIN ? batch.a.subarray(0, batch.n).sort() : radixSort(batch.a as Int32Array, batch.n);
    let m = 1;
    for (let j = 1; j < b.length; j++) if (b[m - 1] !== b[j]) b[m++] = b[j]!;
    const a = this.a;
    if (a.length === 0) {
      // The common case (each piece of content has its own index): the batch, without its repeats.
      this.a = b.slice(0, m);
      return m;
    }
    // Merged in one pass into a reused array, then copied out at its size (counting first, then
    // merging into an array of the exact size, read both twice: each piece of the principal's
    // words, a message or a tool definition at a time, is merged into the whole).
    const need = a.length + m;
    let out: Float64Array | Int32Array = this.wide ? mergeWide : mergeNarrow;
    if (out.length < need) {
      out = this.wide ? new Float64Array(need) : new Int32Array(need);
      if (this.wide) mergeWide = out as Float64Array;
      else mergeNarrow = out as Int32Array;
    }
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < a.length && j < m) {
      const x = a[i]!;
      const y = b[j]!;
      if (x < y) (out[k++] = x), i++;
      else if (y < x) (out[k++] = y), j++;
      else (out[k++] = x), i++, j++;
    }
    while (i < a.length) out[k++] = a[i++]!;
    while (j < m) out[k++] = b[j++]!;
    const added = k - a.length;
    if (added > 0) this.a = out.slice(0, k);
    if (out.length > SCRATCH_KEEP) {
      if (this.wide) mergeWide = new Float64Array(1024);
      else mergeNarrow = new Int32Array(1024);
    }
    return added;
  }

  has(h: number): boolean {
    const a = this.a;
    let lo = 0;
    let hi = a.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = a[mid]!;
      if (v === h) return true;
      if (v < h) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }
}

/** Most numbers kept per piece of content (amount look-ups). */
const MAX_NUMBERS = 256;

/** The hashes of the text being added, and of a value being looked up. */
const TOKENS = new HashList(true);
const PRINTS = new HashList(false);
const LOOKUP = new HashList(false);

export class ContentIndex {
  private readonly tokens = new SortedHashes(true);
  private readonly prints = new SortedHashes(false);
  /** Numbers written in the content (amounts), bounded: only where `keepNumbers` (the principal's words). */
  readonly numbers: number[] = [];
  /** Content was cut because the trace's budget ran out. */
  truncated = false;

  constructor(private readonly keepNumbers = false) {}

  /** Entries held (tokens + fingerprints). */
  get size(): number {
    return this.tokens.size + this.prints.size;
  }

  /** Bytes the hashes take. */
  get bytes(): number {
    return this.tokens.bytes + this.prints.bytes;
  }

  /** Indexes `text`, at most `budget` new entries; returns the entries added. */
  add(text: string, budget: number): number {
    return this.addNormalized(normalizeText(text), budget);
  }

  /** `add` of a text already normalised (`normalizeText`). */
  addNormalized(t: string, budget: number): number {
    try {
      if (budget <= 0) {
        // No room (the trace's budget is spent): nothing is hashed for nothing. The index is cut if
        // the text has an entry: one of K characters or more has a shingle; a shorter one, a token?
        if (t.length < K) tokenHashes(t, TOKENS);
        if (t.length >= K || TOKENS.n > 0) this.truncated = true;
        TOKENS.n = 0;
      } else {
        tokenHashes(t, TOKENS);
        fingerprints(t, PRINTS);
        // Repeats are counted out first only when the text may exceed the budget: distinct hashes
        // count against it (repetitive content is not cut early).
        if (TOKENS.n + PRINTS.n > budget) this.withinBudget(budget);
      }
      if (this.keepNumbers) {
        for (const m of t.matchAll(/(?<![\w.])\d+(?:\.\d+)?(?![\w.])/g)) {
          if (this.numbers.length >= MAX_NUMBERS) break;
          this.numbers.push(Number(m[0]));
        }
      }
      return this.tokens.addAll(TOKENS) + this.prints.addAll(PRINTS);
    } finally {
      TOKENS.clear();
      PRINTS.clear();
    }
  }

  /** Keeps the first `budget` distinct hashes, tokens first (marks the index truncated if some are left out). */
  private withinBudget(budget: number): void {
    const t = new Set<number>();
    const p = new Set<number>();
    let w = 0;
    for (let r = 0; r < TOKENS.n; r++) {
      const h = TOKENS.a[r]!;
      if (t.has(h)) continue;
      if (t.size < budget) t.add(h), (TOKENS.a[w++] = h);
      else this.truncated = true;
    }
    TOKENS.n = w;
    w = 0;
    for (let r = 0; r < PRINTS.n; r++) {
      const h = PRINTS.a[r]!;
      if (p.has(h)) continue;
      if (t.size + p.size < budget) p.add(h), (PRINTS.a[w++] = h);
      else this.truncated = true;
    }
    PRINTS.n = w;
  }

  hasToken(form: string): boolean {
    return this.tokens.has(hash(form));
  }

  /** Whether a normalised value of at least MIN_TEXT_MATCH characters occurs in the text. */
  containsText(value: string): boolean {
    if (value.length < MIN_TEXT_MATCH) return false;
    try {
      fingerprints(value, LOOKUP);
      for (let i = 0; i < LOOKUP.n; i++) if (!this.prints.has(LOOKUP.a[i]!)) return false;
      return LOOKUP.n > 0;
    } finally {
      LOOKUP.clear();
    }
  }
}
