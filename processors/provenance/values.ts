import type { KernelSpanFacts } from '../aibom/kernel-span.js';
import { cleanToken, DIGITS_TEXT, IBAN_TEXT, MIN_TEXT_MATCH, normalizeText, tokenForms, tokenHost } from './content-index.js';

/**
 * The security-relevant values of a tool call (its arguments) and of the kernel activity under it:
 * what provenance asks "where did this come from?" about. Each value carries the normalised forms it
 * may be written in elsewhere; the look-up is in content-index.ts.
 */

export type ValueKind = 'email' | 'url' | 'host' | 'ip' | 'iban' | 'account' | 'path' | 'command' | 'recipient' | 'amount';

export interface Candidate {
  kind: ValueKind;
  /** The value as normalised (lower case), for the report. */
  value: string;
  /** Token forms: any one found in a content index counts as the value appearing there. */
  forms: string[];
  /** A multi-token value (a command, a recipient line): looked up by containment. */
  text?: string;
  /** Amounts: the number. */
  amount?: number;
}

/** Most leaves of one arguments object walked (bounded cost per span). */
const MAX_LEAVES = 2_000;
const MAX_DEPTH = 16;
/** Most candidates per tool call. */
export const MAX_CANDIDATES = 256;

const PATH_KEY = /(?:^|_)(?:path|paths|file|files|filename|filepath|dir|directory|folder)$/;
const COMMAND_KEY = /(?:command|cmd|script|shell|exec|commandline)$/;
const RECIPIENT_KEY = /^(?:to|cc|bcc|recipient|recipients|email|e_mail|mail_to|payee|beneficiary|account|account_number|iban|to_account|destination_account|creditor)$/;
const URL_KEY = /(?:url|uri|endpoint|host|hostname|domain|webhook|link|server)$/;
const AMOUNT_KEY = /(?:amount|sum|total|price)$/;

const EMAIL = /[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,24}/g;
const URL = /\b[a-z][a-z0-9+.-]{1,15}:\/\/[^\s<>{}|^]+/g;
const IPV4 = /(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])/g;
const ABS_PATH = /(?<![\w.~/:])(?:~|\.{1,2})?\/[a-z0-9._@+-]+(?:\/[a-z0-9._@+-]+)+/g;
/** File names by extension: how a bare `customers.csv` is told from a host name. */
const FILE_EXT = '(?:csv|tsv|txt|md|json|jsonl|ya?ml|toml|ini|cfg|conf|env|pem|key|crt|p12|pfx|kdbx|sh|bash|ps1|bat|py|js|mjs|ts|rb|pl|php|sql|db|sqlite|log|xml|html?|pdf|docx?|xlsx?|pptx?|zip|tar|gz|tgz|7z|bak)';
const FILE_NAME = new RegExp(`(?<![\\w/.-])[a-z0-9_][a-z0-9._-]*\\.${FILE_EXT}(?![\\w])`, 'g');
const FILE_NAME_ONLY = new RegExp(`^[a-z0-9_][a-z0-9._-]*\\.${FILE_EXT}$`);
const isFileName = (s: string): boolean => FILE_NAME_ONLY.test(s);

/** ISO 13616 check digits: a real IBAN, not any letters-and-digits run. */
export function validIban(compact: string): boolean {
  const s = compact.toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(s)) return false;
  const moved = s.slice(4) + s.slice(0, 4);
  let r = 0;
  for (const ch of moved) {
    const v = ch >= 'A' ? String(ch.charCodeAt(0) - 55) : ch;
    for (const d of v) r = (r * 10 + Number(d)) % 97;
  }
  return r === 1;
}

// ---------------------------------------------------------------- arguments as written

function parseJson(s: string): unknown {
  const c = s.trimStart().charCodeAt(0);
  if (c !== 123 && c !== 91) return undefined;
  try {
    return JSON.parse(s);
  } catch {
    return pythonLiteral(s);
  }
}

/** A Python literal (`{'path': 'a.csv', 'n': None}`, what OpenLLMetry records as `input_str`) as JSON. */
export function pythonLiteral(s: string): unknown {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "'" || c === '"') {
      let v = '';
      let j = i + 1;
      for (; j < s.length && s[j] !== c; j++) {
        if (s[j] === '\\' && j + 1 < s.length) {
          const e = s[++j]!;
          v += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e === 'x' ? String.fromCharCode(parseInt(s.slice(j + 1, (j += 2) + 1), 16)) : e === 'u' ? String.fromCharCode(parseInt(s.slice(j + 1, (j += 4) + 1), 16)) : e;
        } else v += s[j];
      }
      out += JSON.stringify(v);
      i = j;
    } else if (s.startsWith('True', i)) (out += 'true'), (i += 3);
    else if (s.startsWith('False', i)) (out += 'false'), (i += 4);
    else if (s.startsWith('None', i)) (out += 'null'), (i += 3);
    else out += c;
  }
  try {
    return JSON.parse(out);
  } catch {
    return undefined;
  }
}

/**
 * The arguments object a tool was called with, whatever wrapped it: JSON (OpenInference, GenAI),
 * OpenLLMetry's `{"input_str": "<python repr>", "tags", "metadata"}`, LangSmith's `{"input": ...}`;
 * a bare string (OpenInference records single-string tools so) stays a string.
 */
export function parseArguments(raw: string): unknown {
  let v = parseJson(raw);
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const inner = typeof o.input_str === 'string' ? o.input_str : typeof o.input === 'string' && Object.keys(o).length <= 3 ? o.input : undefined;
    if (inner !== undefined) v = parseJson(inner) ?? inner;
  }
  return v === undefined ? raw : v;
}

function leaves(v: unknown, key: string, out: [string, string | number][], depth = 0): void {
  if (out.length >= MAX_LEAVES || depth > MAX_DEPTH) return;
  if (typeof v === 'string' || typeof v === 'number') out.push([key, v]);
  else if (Array.isArray(v)) for (const x of v) leaves(x, key, out, depth + 1);
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) leaves(x, k.toLowerCase(), out, depth + 1);
}

// ---------------------------------------------------------------- candidates

class Collector {
  readonly out: Candidate[] = [];
  private readonly seen = new Set<string>();

  add(kind: ValueKind, value: string, forms: string[], text?: string, amount?: number): void {
    const f = forms.filter((x) => x.length >= 3);
    if (f.length === 0 && (text === undefined || text.length < MIN_TEXT_MATCH)) return;
    const id = `${kind}\0${value}`;
    if (this.seen.has(id) || this.out.length >= MAX_CANDIDATES) return;
    this.seen.add(id);
    const c: Candidate = { kind, value, forms: f };
    if (text !== undefined) c.text = text;
    if (amount !== undefined) c.amount = amount;
    this.out.push(c);
  }

  /** A single-token value with all the forms it is written in. */
  token(kind: ValueKind, raw: string): void {
    const t = cleanToken(raw);
    if (!t) return;
    const forms: string[] = [];
    tokenForms(t, forms);
    // Only the value itself and its own host: a path's trailing segments say less than the path.
    const own = forms.filter((f, i) => i === 0 || f === tokenHost(t));
    if (kind === 'path') {
      // Where a path is named by its end elsewhere: `customers.csv`, `.ssh/id_rsa`.
      const parts = t.split('/').filter(Boolean);
      const base = parts[parts.length - 1] ?? '';
      if (base !== t && isFileName(base)) own.push(base);
      if (parts.length > 2) own.push(parts.slice(-2).join('/'));
    }
    this.add(kind, t, own);
    const host = tokenHost(t);
    if (host) this.add('host', host, [host]);
  }

  /** A value that may be several tokens: looked up whole by containment, or as one token. */
  phrase(kind: ValueKind, s: string): void {
    const t = normalizeText(s);
    if (t === '') return;
    // An account written in groups is the same account: compared without its spacing.
    const compact = t.replace(/[ -]/g, '');
    if (validIban(compact)) return this.add('iban', compact, [compact]);
    if (/^\d{8,34}$/.test(compact)) return this.add('account', compact, [compact]);
    if (!t.includes(' ')) return this.token(kind, t);
    this.add(kind, t.length > 256 ? `${t.slice(0, 255)}…` : t, [], t);
  }

  /**
   * Whether normalised text `t` holds an IBAN or account number (as `typed` finds them) not taken
   * yet. The arguments joined are read only then: the other values `typed` finds in them were taken
   * argument by argument, so reading them again adds nothing that is kept, and only a new IBAN or
   * account would be (whether the cap lets it in then depends on what comes before it: read as before).
   */
  groupedNew(t: string): boolean {
    if (!/\d/.test(t)) return false;
    for (const m of t.matchAll(IBAN_TEXT)) {
      const compact = m[0].replace(/ /g, '');
      if (validIban(compact) && !this.seen.has(`iban\0${compact}`)) return true;
    }
    for (const m of t.matchAll(DIGITS_TEXT)) {
      if (t[m.index - 1] === '+') continue;
      const digits = m[0].replace(/[ -]/g, '');
      if (digits.length >= 9 && !this.seen.has(`account\0${digits}`)) return true;
    }
    return false;
  }

  /** Every typed value written in a text. Each expression runs only where the character it cannot match without is in the text. */
  typed(s: string): void {
    this.typedNormalized(normalizeText(s));
  }

  /** `typed` of a normalised text. */
  typedNormalized(t: string): void {
    const dot = t.includes('.');
    if (t.includes('@')) for (const m of t.matchAll(EMAIL)) this.token('email', m[0]);
    if (t.includes('://')) for (const m of t.matchAll(URL)) this.token('url', m[0]);
    if (dot) for (const m of t.matchAll(IPV4)) if (m[0].split('.').every((o) => Number(o) <= 255)) this.token('ip', m[0]);
    if (/\d/.test(t)) {
      for (const m of t.matchAll(IBAN_TEXT)) {
        const compact = m[0].replace(/ /g, '');
        if (validIban(compact)) this.add('iban', compact, [compact]);
      }
      for (const m of t.matchAll(DIGITS_TEXT)) {
        // `+1-555-...` is a phone number, not an account.
        if (t[m.index - 1] === '+') continue;
        const digits = m[0].replace(/[ -]/g, '');
        if (digits.length >= 9) this.add('account', digits, [digits]);
      }
    }
    if (t.includes('/')) for (const m of t.matchAll(ABS_PATH)) this.token('path', m[0]);
    if (dot) for (const m of t.matchAll(FILE_NAME)) this.token('path', m[0]);
  }
}

/** The security-relevant values in a tool call's arguments, as recorded on the span. */
export function argumentCandidates(raw: string): Candidate[] {
  const c = new Collector();
  const parsed = parseArguments(raw);
  const list: [string, string | number][] = [];
  leaves(parsed, '', list);
  const strings: string[] = [];
  for (const [key, v] of list) {
    if (typeof v === 'number' || (AMOUNT_KEY.test(key) && /^\s*\d+(?:[.,]\d+)?\s*$/.test(v))) {
      if (AMOUNT_KEY.test(key)) {
        const n = typeof v === 'number' ? v : Number(v.replace(',', '.'));
        if (Number.isFinite(n)) c.add('amount', String(n), [String(n)], undefined, n);
      }
      continue;
    }
    strings.push(v);
    if (PATH_KEY.test(key)) c.phrase('path', v);
    else if (COMMAND_KEY.test(key)) c.phrase('command', v);
    else if (RECIPIENT_KEY.test(key)) c.phrase('recipient', v);
    else if (URL_KEY.test(key)) c.phrase('url', v);
    c.typed(v);
  }
  // Values split across arguments (`{"bank": "DE89 3704", "account": "0044 0532 0130 00"}`).
  if (strings.length > 1) {
    const joined = normalizeText(normalizeText(strings.join(' ')));
    if (!c.groupedNew(joined)) return c.out;
    const before = c.out.length;
    c.typedNormalized(joined);
    // Only the kinds that are written in groups come from the joined form.
    c.out.splice(before, c.out.length - before, ...c.out.slice(before).filter((x) => x.kind === 'iban' || x.kind === 'account'));
  }
  return c.out;
}

/** What the kernel showed under a tool call, as values: destination, file, command. */
export function kernelCandidates(f: KernelSpanFacts, ignorePaths: readonly string[]): Candidate[] {
  const c = new Collector();
  if (f.dnsName) c.token('host', f.dnsName.replace(/\.$/, '').toLowerCase());
  if (f.peerAddress && (f.kind === 'connect' || f.kind === 'tls' || f.kind === 'http')) c.token('ip', f.peerAddress.replace(/^::ffff:/, ''));
  if (f.serverAddress && f.serverAddress !== f.peerAddress) c.token('host', f.serverAddress.toLowerCase());
  if (f.urlPath && f.urlPath.length >= 6) c.token('url', f.urlPath.toLowerCase());
  const path = f.filePath;
  if (path && (f.fileResult === undefined || f.fileResult >= 0) && !((f.fileOpenFlags ?? 0) & 0o200000) && !ignorePaths.some((p) => path.startsWith(p) || path.includes(p))) c.token('path', path.toLowerCase());
  if (f.kind === 'exec' && f.commandArgs && f.commandArgs.length > 0) c.phrase('command', f.commandArgs.join(' '));
  if (f.kind === 'exec' && f.executable) c.token('path', f.executable.toLowerCase());
  return c.out;
}
