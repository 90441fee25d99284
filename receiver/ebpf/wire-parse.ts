// Reads what correlation needs out of captured plaintext (TLS SSL_write/SSL_read, first bytes of plain
// HTTP sends): the HTTP/1.x request or status line, a few headers, and the W3C traceparent, either as an
// HTTP header or inside an MCP JSON-RPC message's params._meta. Bounded: the captured bytes are at most
// 2 KiB, and parsing stops at the end of the head.
//
// Read from the bytes, as latin1 (header bytes are ASCII, and a byte-preserving decode never throws):
// strings are made only for the values kept, and those that repeat (method, path, host, user agent, a
// body's model) come from a cache keyed by their bytes. A latin1 copy of the whole capture, a regular
// expression and slices per header line were ~1.5 KB and 1-3 µs per HTTP/TLS event.
// wire-parse.test.ts holds this to the regular-expression definition on random heads.

import { stringCache } from '../../pipeline/string-cache.js';
import { parseTraceparent } from '../../pipeline/trace-context.js';

export interface WireInfo {
  /** HTTP/1.x request line seen. */
  method?: string;
  /** Path without the query string (the query may carry secrets and is never reported). */
  path?: string;
  /** From the Host header (request) without the port. */
  host?: string;
  port?: number;
  contentLength?: number;
  userAgent?: string;
  /** HTTP/1.x status line seen. */
  statusCode?: number;
  /** The traceparent's first four fields as sent. */
  traceparent?: string;
  traceparentSource?: 'header' | 'mcp_meta';
  /** Its trace and parent span ids (what `parseTraceparent` reads from `traceparent`). */
  traceId?: string;
  spanId?: string;
}

/**
 * Every field set (to undefined when the head lacks it), in one order: all results share one hidden class,
 * so the converter's reads of them stay monomorphic whatever headers a message carries (fields added as
 * found gave a map per combination of headers).
 */
function emptyInfo(): WireInfo {
  return {
    method: undefined,
    path: undefined,
    host: undefined,
    port: undefined,
    contentLength: undefined,
    userAgent: undefined,
    statusCode: undefined,
    traceparent: undefined,
    traceparentSource: undefined,
    traceId: undefined,
    spanId: undefined,
  };
}

type Latin1Buffer = Buffer & { latin1Slice(start: number, end: number): string };

/** Values that repeat, as latin1 strings: 256 of up to 256 bytes, 64 KiB. */
const text = stringCache(256, 256, true);

/** JavaScript's `\s` (and what `trim` removes) among latin1 characters. */
const isSpace = (b: number): boolean => (b >= 0x09 && b <= 0x0d) || b === 0x20 || b === 0xa0;
const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39;
const isUpper = (b: number): boolean => b >= 0x41 && b <= 0x5a;
const isLowerHex = (b: number): boolean => isDigit(b) || (b >= 0x61 && b <= 0x66);
const lower = (b: number): number => (isUpper(b) ? b | 0x20 : b);

const HTTP1 = Buffer.from('HTTP/1.');
const JSONRPC = Buffer.from('"jsonrpc"');
const MCP_META_TRACEPARENT = /"_meta"\s*:\s*\{[^{}]*?"traceparent"\s*:\s*"([^"]{55,128})"/;

const HOST = Buffer.from('host');
const CONTENT_LENGTH = Buffer.from('content-length');
const USER_AGENT = Buffer.from('user-agent');
const TRACEPARENT = Buffer.from('traceparent');

/**
 * The first `byte` in [from, end), else -1. A loop here, not `Buffer.indexOf`: each of those is a call into
 * C++ costing more than the scan of a header line.
 */
function find(buf: Buffer, byte: number, from: number, end: number): number {
  for (let i = from; i < end; i++) if (buf[i] === byte) return i;
  return -1;
}

/** `buf[at..]` starts with `what`. */
function startsWith(buf: Buffer, at: number, end: number, what: Buffer): boolean {
  if (end - at < what.length) return false;
  for (let i = 0; i < what.length; i++) if (buf[at + i] !== what[i]) return false;
  return true;
}

/** [start, end) is `name` (lower case) with ASCII letters in either case, as `toLowerCase` compares. */
function isName(buf: Buffer, start: number, end: number, name: Buffer): boolean {
  if (end - start !== name.length) return false;
  for (let i = 0; i < name.length; i++) if (lower(buf[start + i]!) !== name[i]) return false;
  return true;
}

/** `HTTP/1.0` or `HTTP/1.1` at `at`. */
const isVersion = (buf: Buffer, at: number, end: number): boolean =>
  startsWith(buf, at, end, HTTP1) && (buf[at + 7] === 0x30 || buf[at + 7] === 0x31);

/** A decimal number of [start, end) (digits only), or -1 when it is not one. */
function decimal(buf: Buffer, start: number, end: number): number {
  if (start >= end) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (!isDigit(b)) return -1;
    n = n * 10 + (b - 0x30);
  }
  return n;
}

/**
 * Parses `data`. Returns undefined when neither an HTTP/1.x head nor an MCP `_meta.traceparent` is
 * present.
 */
export function parseWire(data: Buffer): WireInfo | undefined {
  const len = data.length;
  let info: WireInfo | undefined;
  // Request and status lines begin with an upper-case letter: other captures (a JSON-RPC message, TLS
  // records read as plaintext) are not searched for a line end.
  const nl = len > 0 && isUpper(data[0]!) ? find(data, 0x0a, 0, len) : 0;
  const firstEnd = nl < 0 ? len : nl;
  // The first line without one trailing CR.
  const lineEnd = firstEnd > 0 && data[firstEnd - 1] === 0x0d ? firstEnd - 1 : firstEnd;
  let bodyStart = 0;
  const methodEnd = requestLine(data, lineEnd);
  const status = methodEnd >= 0 ? -1 : statusLine(data, lineEnd);
  if (methodEnd >= 0 || status >= 0) {
    info = emptyInfo();
    if (methodEnd >= 0) {
      info.method = text(data, 0, methodEnd);
      // The target ends where ` HTTP/1.x` begins.
      info.path = targetPath(data, methodEnd + 1, lineEnd - 9);
    } else {
      info.statusCode = status;
    }
    // Headers up to the blank line; a header cut by the capture bound (no line end) is ignored.
    let pos = nl < 0 ? len : nl + 1;
    bodyStart = len;
    while (pos < len) {
      const next = find(data, 0x0a, pos, len);
      if (next < 0) break;
      const end = next > pos && data[next - 1] === 0x0d ? next - 1 : next;
      const start = pos;
      pos = next + 1;
      if (end === start) {
        bodyStart = pos;
        break;
      }
      header(data, start, end, info, methodEnd >= 0);
    }
  }
  // MCP: JSON-RPC with params._meta.traceparent, in a body after the head or in a bare write.
  // The HTTP header, when valid, names the innermost (HTTP client) span and is kept.
  if (!info?.traceparent && bodyStart < len && data.indexOf(JSONRPC, bodyStart) >= 0) {
    const m = MCP_META_TRACEPARENT.exec(data.toString('latin1', bodyStart));
    const tp = m ? parseTraceparent(m[1]!) : undefined;
    if (tp) {
      info ??= emptyInfo();
      info.traceparent = tp.value;
      info.traceparentSource = 'mcp_meta';
      info.traceId = tp.traceId;
      info.spanId = tp.spanId;
    }
  }
  return info;
}

/** `METHOD target HTTP/1.x` as the whole of [0, end): where the method ends, else -1. */
function requestLine(buf: Buffer, end: number): number {
  let m = 0;
  while (m < end && m <= 10 && isUpper(buf[m]!)) m++;
  if (m < 3 || m > 10 || buf[m] !== 0x20) return -1;
  let t = m + 1;
  while (t < end && !isSpace(buf[t]!)) t++;
  // A target, then exactly ` HTTP/1.0` or ` HTTP/1.1` and the line's end.
  if (t === m + 1 || end - t !== 9 || buf[t] !== 0x20 || !isVersion(buf, t + 1, end)) return -1;
  return m;
}

/** The path of a request target [start, end): without query or fragment; of an absolute form, `/` if it has none. */
function targetPath(buf: Buffer, start: number, end: number): string {
  let from = start;
  const authority = absoluteForm(buf, start, end);
  if (authority >= 0) {
    from = find(buf, 0x2f, authority, end);
    if (from < 0) return '/';
  }
  let to = from;
  while (to < end && buf[to] !== 0x3f && buf[to] !== 0x23) to++;
  return text(buf, from, to);
}

/** Where the authority starts when [start, end) is `scheme://...` (scheme: a letter, then letters, digits, `+.-`), else -1. */
function absoluteForm(buf: Buffer, start: number, end: number): number {
  const b0 = lower(buf[start]!);
  if (!(b0 >= 0x61 && b0 <= 0x7a)) return -1;
  let i = start + 1;
  for (; i < end; i++) {
    const b = lower(buf[i]!);
    if (!((b >= 0x61 && b <= 0x7a) || isDigit(b) || b === 0x2b || b === 0x2e || b === 0x2d)) break;
  }
  if (end - i < 3 || buf[i] !== 0x3a || buf[i + 1] !== 0x2f || buf[i + 2] !== 0x2f) return -1;
  return i + 3;
}

/** `HTTP/1.x NNN` followed by a space or the line's end: the status code, else -1. */
function statusLine(buf: Buffer, end: number): number {
  if (end < 12 || !isVersion(buf, 0, end) || buf[8] !== 0x20) return -1;
  if (end > 12 && buf[12] !== 0x20) return -1;
  return decimal(buf, 9, 12);
}

/** One header line [start, end) of a head: the few that are read. */
function header(buf: Buffer, start: number, end: number, info: WireInfo, isRequest: boolean): void {
  const colon = find(buf, 0x3a, start, end);
  if (colon <= start) return;
  // Name and value with surrounding whitespace trimmed.
  let ns = start;
  let ne = colon;
  while (ns < ne && isSpace(buf[ns]!)) ns++;
  while (ne > ns && isSpace(buf[ne - 1]!)) ne--;
  let vs = colon + 1;
  let ve = end;
  while (vs < ve && isSpace(buf[vs]!)) vs++;
  while (ve > vs && isSpace(buf[ve - 1]!)) ve--;
  switch (ne - ns) {
    case 4:
      if (isRequest && isName(buf, ns, ne, HOST)) hostPort(buf, vs, ve, info);
      return;
    case 14:
      if (isName(buf, ns, ne, CONTENT_LENGTH)) {
        const n = decimal(buf, vs, ve);
        if (n >= 0 && Number.isSafeInteger(n)) info.contentLength = n;
      }
      return;
    case 10:
      if (isName(buf, ns, ne, USER_AGENT)) info.userAgent = text(buf, vs, ve);
      return;
    case 11:
      if (isName(buf, ns, ne, TRACEPARENT)) traceparent(buf, vs, ve, info);
      return;
  }
}

/**
 * A Host value: `[v6]` or a name without `:`, each with an optional `:port` of digits; anything else is
 * ignored. The port is kept when it is 1-65535.
 */
function hostPort(buf: Buffer, start: number, end: number, info: WireInfo): void {
  if (start >= end) return;
  let hostStart = start;
  let hostEnd: number;
  let after: number;
  const close = buf[start] === 0x5b ? find(buf, 0x5d, start + 1, end) : -1;
  if (close > start + 1 && (close + 1 === end || (buf[close + 1] === 0x3a && decimal(buf, close + 2, end) >= 0))) {
    hostStart = start + 1;
    hostEnd = close;
    after = close + 1;
  } else {
    const colon = find(buf, 0x3a, start, end);
    hostEnd = colon < 0 ? end : colon;
    if (hostEnd === start || (hostEnd < end && decimal(buf, hostEnd + 1, end) < 0)) return;
    after = hostEnd;
  }
  info.host = text(buf, hostStart, hostEnd);
  if (after < end) {
    const port = decimal(buf, after + 1, end);
    if (port > 0 && port < 65536) info.port = port;
  }
}

const VERSION_FF = 0x66;

/** A valid W3C traceparent value [start, end) (as `parseTraceparent` reads it): its value and ids. */
function traceparent(buf: Buffer, start: number, end: number, info: WireInfo): void {
  const n = end - start;
  if (n < 55) return;
  for (let i = 0; i < 55; i++) {
    const b = buf[start + i]!;
    if (i === 2 || i === 35 || i === 52 ? b !== 0x2d : !isLowerHex(b)) return;
  }
  const v0 = buf[start]!;
  const v1 = buf[start + 1]!;
  if (v0 === VERSION_FF && v1 === VERSION_FF) return;
  if (n > 55) {
    // Version 00 has exactly four fields; a later one may append `-...` (one line).
    if ((v0 === 0x30 && v1 === 0x30) || buf[start + 55] !== 0x2d) return;
    for (let i = start + 56; i < end; i++) if (buf[i] === 0x0d || buf[i] === 0x0a) return;
  }
  if (allZero(buf, start + 3, start + 35) || allZero(buf, start + 36, start + 52)) return;
  const latin1 = buf as Latin1Buffer;
  info.traceparent = latin1.latin1Slice(start, start + 55);
  info.traceparentSource = 'header';
  info.traceId = latin1.latin1Slice(start + 3, start + 35);
  info.spanId = latin1.latin1Slice(start + 36, start + 52);
}

function allZero(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] !== 0x30) return false;
  return true;
}

const MODEL_KEY = Buffer.from('"model"');
/** How far past `"model"` its value is looked for. */
const MODEL_WINDOW = 160;

/**
 * The model a request body names (`"model":"gpt-4o-mini"`), when its first bytes carry it: the first
 * `"model"`, then `:` and a string of 1-128 characters without `"` or `\`, within 160 bytes of it
 * (whitespace around the colon as JavaScript's `\s`).
 */
export function requestModel(data: Buffer): string | undefined {
  const at = data.indexOf(MODEL_KEY);
  if (at < 0) return undefined;
  const end = Math.min(data.length, at + MODEL_WINDOW);
  let i = at + MODEL_KEY.length;
  while (i < end && isSpace(data[i]!)) i++;
  if (i >= end || data[i] !== 0x3a) return undefined;
  i++;
  while (i < end && isSpace(data[i]!)) i++;
  if (i >= end || data[i] !== 0x22) return undefined;
  const start = ++i;
  while (i < end && i - start <= 128 && data[i] !== 0x22 && data[i] !== 0x5c) i++;
  if (i >= end || data[i] !== 0x22 || i === start || i - start > 128) return undefined;
  return text(data, start, i);
}
