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

/**
 * Lower case; JSON/Python escapes (`\n`, `\"`), quotes and backticks become spaces; whitespace
 * collapsed. The same function runs on content and on looked-up values, so escape levels (a tool
 * result JSON inside a span attribute inside a message) do not matter. One pass (it runs on every
 * character of content); the same result as, in order, `.replace(/\\+[nrt]/g, ' ')`,
 * `.replace(/[\\"'`]+/g, ' ')`, `.replace(/\s+/g, ' ')` and `.trim()` (values.test.ts).
 */
export function normalizeText(s: string): string {
  const t = s.toLowerCase();
  const n = t.length;
  let out = '';
  let from = 0; // start of the run of kept characters
  let i = 0;
  while (i < n) {
    if (!folds(t.charCodeAt(i))) {
      i++;
      continue;
    }
    if (i > from) out += out === '' ? t.slice(from, i) : ' ' + t.slice(from, i);
    // A run of folded characters (backslashes with the escape letter after them) is one space.
    while (i < n) {
      const c = t.charCodeAt(i);
      if (c === 92 /* \\ */) {
        while (i < n && t.charCodeAt(i) === 92) i++;
        const e = t.charCodeAt(i);
        if (e === 110 /* n */ || e === 114 /* r */ || e === 116 /* t */) i++;
      } else if (folds(c)) i++;
      else break;
    }
    from = i;
  }
  if (n > from) out += out === '' ? (from === 0 ? t : t.slice(from)) : ' ' + t.slice(from);
  return out;
}

/** Token characters (`[a-z0-9._@:/~+%?&#-]`, after normalisation). */
const TOKEN_CHAR = new Uint8Array(128);
for (const c of 'abcdefghijklmnopqrstuvwxyz0123456789._@:/~+%?&#-') TOKEN_CHAR[c.charCodeAt(0)] = 1;
/** IBAN as written (spaced or not), after normalisation (lower case). */
export const IBAN_TEXT = /\b[a-z]{2}\d{2}(?: ?[a-z0-9]{4}){2,7}(?: ?[a-z0-9]{1,4})?\b/g;
/** Account, card or phone-like digit runs of 8+ digits with spaces or dashes between groups. */
export const DIGITS_TEXT = /\d(?:[ -]?\d){7,33}/g;

const LEAD_CHARS = new Set('.:?&#,~+-');
const TRAIL_CHARS = new Set('.:,?&#/~+-');

/** A token with its edges trimmed, or '' when too short. */
export function cleanToken(t: string): string {
  return cleanRange(t, 0, t.length);
}

/** `cleanToken` of `t.slice(a, b)`, sliced once. */
function cleanRange(t: string, a: number, b: number): string {
  const whole = a === 0 && b === t.length;
  const a0 = a;
  const b0 = b;
  while (a < b && LEAD_CHARS.has(t[a]!)) a++;
  while (b > a && TRAIL_CHARS.has(t[b - 1]!)) b--;
  return b - a >= MIN_TOKEN ? (whole && a === a0 && b === b0 ? t : t.slice(a, b)) : '';
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
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return (a >>> 0) * 0x200000 + ((b >>> 0) & 0x1fffff);
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
 * Winnowed shingle hashes of normalised text (K-grams, the minimum of every W consecutive). Each
 * K-gram's hash is rolled from the previous one (a few operations a character, not K). Hashes are
 * 30-bit so they stay small integers in V8.
 */
export function fingerprints(t: string, add: (h: number) => void): void {
  const n = t.length - K + 1;
  if (n <= 0) return;
  const grams = new Int32Array(n);
  let h = 0;
  for (let j = 0; j < K; j++) h = (Math.imul(h, B) + t.charCodeAt(j)) | 0;
  grams[0] = mix(h);
  for (let i = 1; i < n; i++) {
    h = (Math.imul((h - Math.imul(t.charCodeAt(i - 1), B_K1)) | 0, B) + t.charCodeAt(i + K - 1)) | 0;
    grams[i] = mix(h);
  }
  let last = -1;
  const windows = Math.max(1, n - W + 1);
  for (let i = 0; i < windows; i++) {
    let at = last >= i ? last : i;
    if (at === last) {
      // The previous minimum is still in this window: only the new gram can beat it.
      const j = Math.min(i + W, n) - 1;
      if (j > at && grams[j]! <= grams[at]!) at = j;
    } else {
      const end = Math.min(i + W, n);
      for (let j = i + 1; j < end; j++) if (grams[j]! <= grams[at]!) at = j;
    }
    if (at !== last) {
      add(grams[at]!);
      last = at;
    }
  }
}

/** Every token form of a normalised text, with IBANs and digit runs compacted. */
export function tokensOf(t: string, add: (form: string) => void): void {
  const forms: string[] = [];
  const n = t.length;
  for (let i = 0; i < n; ) {
    const c = t.charCodeAt(i);
    if (c >= 128 || TOKEN_CHAR[c] !== 1) {
      i++;
      continue;
    }
    const a = i;
    while (i < n && t.charCodeAt(i) < 128 && TOKEN_CHAR[t.charCodeAt(i)] === 1) i++;
    const token = cleanRange(t, a, i);
    if (token) tokenForms(token, forms);
  }
  for (const m of t.matchAll(IBAN_TEXT)) forms.push(m[0].replace(/ /g, ''));
  for (const m of t.matchAll(DIGITS_TEXT)) forms.push(m[0].replace(/[ -]/g, ''));
  for (const f of forms) add(f);
}

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

  /** Adds a batch (any order, duplicates allowed); returns how many were new. */
  addAll(batch: number[]): number {
    if (batch.length === 0) return 0;
    const b = (this.wide ? Float64Array.from(batch) : Int32Array.from(batch)).sort();
    const a = this.a;
    if (a.length === 0) {
      // The common case (each piece of content has its own index): the batch, without its repeats.
      let n = 0;
      for (let j = 0; j < b.length; j++) if (n === 0 || b[n - 1] !== b[j]) b[n++] = b[j]!;
      this.a = n === b.length ? b : b.slice(0, n);
      return n;
    }
    const out = this.wide ? new Float64Array(a.length + b.length) : new Int32Array(a.length + b.length);
    let i = 0;
    let j = 0;
    let n = 0;
    while (i < a.length || j < b.length) {
      const v = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i++]! : b[j++]!;
      if (n === 0 || out[n - 1] !== v) out[n++] = v;
    }
    const added = n - a.length;
    this.a = out.slice(0, n);
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

export class ContentIndex {
  private readonly tokens = new SortedHashes(true);
  private readonly prints = new SortedHashes(false);
  /** Numbers written in the content (amounts), bounded. */
  readonly numbers: number[] = [];
  /** Content was cut because the trace's budget ran out. */
  truncated = false;

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
    const t = normalizeText(text);
    let toks: number[] = [];
    let prints: number[] = [];
    tokensOf(t, (f) => void toks.push(hash(f)));
    fingerprints(t, (h) => void prints.push(h));
    // Plain arrays (doubles unboxed, no Set) unless the text may exceed the budget: only then are
    // repeats counted out first, as distinct hashes count against it (repetitive content is not cut early).
    if (toks.length + prints.length > budget) [toks, prints] = this.withinBudget(toks, prints, budget);
    for (const m of t.matchAll(/(?<![\w.])\d+(?:\.\d+)?(?![\w.])/g)) {
      if (this.numbers.length >= MAX_NUMBERS) break;
      this.numbers.push(Number(m[0]));
    }
    return this.tokens.addAll(toks) + this.prints.addAll(prints);
  }

  /** The first `budget` distinct hashes, tokens first (marks the index truncated if some are left out). */
  private withinBudget(toks: number[], prints: number[], budget: number): [number[], number[]] {
    const t = new Set<number>();
    const p = new Set<number>();
    for (const h of toks) {
      if (t.has(h)) continue;
      if (t.size < budget) t.add(h);
      else this.truncated = true;
    }
    for (const h of prints) {
      if (p.has(h)) continue;
      if (t.size + p.size < budget) p.add(h);
      else this.truncated = true;
    }
    return [[...t], [...p]];
  }

  hasToken(form: string): boolean {
    return this.tokens.has(hash(form));
  }

  /** Whether a normalised value of at least MIN_TEXT_MATCH characters occurs in the text. */
  containsText(value: string): boolean {
    if (value.length < MIN_TEXT_MATCH) return false;
    let all = true;
    let any = false;
    fingerprints(value, (h) => {
      any = true;
      if (all && !this.prints.has(h)) all = false;
    });
    return any && all;
  }
}
