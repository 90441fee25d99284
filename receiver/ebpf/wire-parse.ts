// Reads what correlation needs out of captured plaintext (TLS SSL_write/SSL_read, first bytes of plain
// HTTP sends): the HTTP/1.x request or status line, a few headers, and the W3C traceparent, either as an
// HTTP header or inside an MCP JSON-RPC message's params._meta. Bounded: the captured bytes are at most
// 2 KiB, and parsing stops at the end of the head.

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
  traceparent?: string;
  traceparentSource?: 'header' | 'mcp_meta';
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
  };
}

const REQUEST_LINE = /^([A-Z]{3,10}) (\S+) HTTP\/1\.[01]$/;
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: |$)/;
const MCP_META_TRACEPARENT = /"_meta"\s*:\s*\{[^{}]*?"traceparent"\s*:\s*"([^"]{55,128})"/;

function splitHostPort(value: string, info: WireInfo): void {
  const v = value.trim();
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(v) ?? /^([^:]+)(?::(\d+))?$/.exec(v);
  if (!m) return;
  info.host = m[1]!;
  if (m[2] !== undefined) {
    const port = Number(m[2]);
    if (port > 0 && port < 65536) info.port = port;
  }
}

/**
 * Parses `data` (latin1: header bytes are ASCII, and a byte-preserving decode never throws). Returns
 * undefined when neither an HTTP/1.x head nor an MCP `_meta.traceparent` is present.
 */
export function parseWire(data: Buffer): WireInfo | undefined {
  const text = data.toString('latin1');
  let info: WireInfo | undefined;
  const firstEnd = text.indexOf('\n');
  const first = (firstEnd < 0 ? text : text.slice(0, firstEnd)).replace(/\r$/, '');
  let bodyStart = 0;
  const req = REQUEST_LINE.exec(first);
  const status = req ? null : STATUS_LINE.exec(first);
  if (req || status) {
    info = emptyInfo();
    if (req) {
      info.method = req[1]!;
      let target = req[2]!;
      // Absolute form (proxies): keep only the path.
      const abs = /^[a-z][a-z0-9+.-]*:\/\/[^/]*(\/.*)?$/i.exec(target);
      if (abs) target = abs[1] ?? '/';
      const q = target.search(/[?#]/);
      info.path = q < 0 ? target : target.slice(0, q);
    } else {
      info.statusCode = Number(status![1]);
    }
    // Headers up to the blank line; a header cut by the capture bound (no line end) is ignored.
    let pos = firstEnd < 0 ? text.length : firstEnd + 1;
    bodyStart = text.length;
    while (pos < text.length) {
      const nl = text.indexOf('\n', pos);
      if (nl < 0) break;
      const line = text.slice(pos, text[nl - 1] === '\r' ? nl - 1 : nl);
      pos = nl + 1;
      if (line === '') {
        bodyStart = pos;
        break;
      }
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      switch (name) {
        case 'host':
          if (req) splitHostPort(value, info);
          break;
        case 'content-length': {
          const n = Number(value);
          if (/^\d+$/.test(value) && Number.isSafeInteger(n)) info.contentLength = n;
          break;
        }
        case 'user-agent':
          info.userAgent = value;
          break;
        case 'traceparent': {
          const tp = parseTraceparent(value);
          if (tp) {
            info.traceparent = tp.value;
            info.traceparentSource = 'header';
          }
          break;
        }
      }
    }
  }
  // MCP: JSON-RPC with params._meta.traceparent, in a body after the head or in a bare write.
  // The HTTP header, when valid, names the innermost (HTTP client) span and is kept.
  if (!info?.traceparent && text.includes('"jsonrpc"', bodyStart)) {
    const m = MCP_META_TRACEPARENT.exec(bodyStart > 0 ? text.slice(bodyStart) : text);
    const tp = m ? parseTraceparent(m[1]!) : undefined;
    if (tp) {
      info ??= emptyInfo();
      info.traceparent = tp.value;
      info.traceparentSource = 'mcp_meta';
    }
  }
  return info;
}
