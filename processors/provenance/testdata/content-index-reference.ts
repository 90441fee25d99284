// The definition content-index.ts is held to (content-index.test.ts): what `ContentIndex.add` kept
// before it hashed over the text's character codes, as that version wrote it (forms as strings, hashed
// one by one; shingles into an array of every gram, then winnowed; hashes collected in sets).
// `normalizeText` is imported: it is unchanged and has its own regular-expression definition in
// values.test.ts.

import { normalizeText } from '../content-index.js';

const K = 8;
const W = 8;
const MIN_TOKEN = 3;
const MAX_SUFFIXES = 6;
const TOKEN_CHAR = /[a-z0-9._@:/~+%?&#-]+/g;
const IBAN_TEXT = /\b[a-z]{2}\d{2}(?: ?[a-z0-9]{4}){2,7}(?: ?[a-z0-9]{1,4})?\b/g;
const DIGITS_TEXT = /\d(?:[ -]?\d){7,33}/g;
const LEAD_CHARS = new Set('.:?&#,~+-');
const TRAIL_CHARS = new Set('.:,?&#/~+-');

function cleanToken(t: string): string {
  let a = 0;
  let b = t.length;
  while (a < b && LEAD_CHARS.has(t[a]!)) a++;
  while (b > a && TRAIL_CHARS.has(t[b - 1]!)) b--;
  return b - a >= MIN_TOKEN ? t.slice(a, b) : '';
}

function tokenHost(t: string): string | undefined {
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

function tokenForms(t: string, out: string[]): void {
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

export function referenceHash(s: string): number {
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

/** Every token form of a normalised text, in order. */
export function referenceForms(t: string): string[] {
  const forms: string[] = [];
  for (const m of t.matchAll(TOKEN_CHAR)) {
    const c = cleanToken(m[0]);
    if (c) tokenForms(c, forms);
  }
  for (const m of t.matchAll(IBAN_TEXT)) forms.push(m[0].replace(/ /g, ''));
  for (const m of t.matchAll(DIGITS_TEXT)) forms.push(m[0].replace(/[ -]/g, ''));
  return forms;
}

const B = 0x01000193;

function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h & 0x3fffffff;
}

/** Winnowed shingles in order: every gram hashed from its K characters, the rightmost minimum of each window, repeats of the last one left out. */
export function referenceFingerprints(t: string): number[] {
  const out: number[] = [];
  const n = t.length - K + 1;
  if (n <= 0) return out;
  const grams: number[] = [];
  for (let i = 0; i < n; i++) {
    let h = 0;
    for (let j = 0; j < K; j++) h = (Math.imul(h, B) + t.charCodeAt(i + j)) | 0;
    grams.push(mix(h));
  }
  let last = -1;
  for (let i = 0; i < Math.max(1, n - W + 1); i++) {
    let at = i;
    for (let j = i + 1; j < Math.min(i + W, n); j++) if (grams[j]! <= grams[at]!) at = j;
    if (at !== last) out.push(grams[at]!);
    last = at;
  }
  return out;
}

export interface ReferenceIndex {
  tokens: number[];
  prints: number[];
  numbers: number[];
  truncated: boolean;
}

/** An index after `add(text, budget)` on each of `texts` in turn: its hashes sorted, its numbers, whether it was cut. */
export function referenceIndex(texts: readonly [string, number][]): ReferenceIndex {
  const tokens = new Set<number>();
  const prints = new Set<number>();
  const numbers: number[] = [];
  let truncated = false;
  for (const [text, budget] of texts) {
    const t = normalizeText(text);
    const toks = referenceForms(t).map(referenceHash);
    const grams = referenceFingerprints(t);
    const batchT = new Set<number>();
    const batchP = new Set<number>();
    for (const h of toks) {
      if (batchT.has(h)) continue;
      if (batchT.size < budget) batchT.add(h);
      else truncated = true;
    }
    for (const h of grams) {
      if (batchP.has(h)) continue;
      if (batchT.size + batchP.size < budget) batchP.add(h);
      else truncated = true;
    }
    for (const h of batchT) tokens.add(h);
    for (const h of batchP) prints.add(h);
    for (const m of t.matchAll(/(?<![\w.])\d+(?:\.\d+)?(?![\w.])/g)) {
      if (numbers.length >= 256) break;
      numbers.push(Number(m[0]));
    }
  }
  return { tokens: [...tokens].sort((a, b) => a - b), prints: [...prints].sort((a, b) => a - b), numbers, truncated };
}
