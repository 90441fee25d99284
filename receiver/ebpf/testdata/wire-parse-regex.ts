// The definition wire-parse.ts is held to (wire-parse.test.ts): the captured bytes read as one latin1
// string with regular expressions, as the receiver did before it read them as bytes.

import { parseTraceparent } from '../../../pipeline/trace-context.js';
import type { WireInfo } from '../wire-parse.js';

const REQUEST_LINE = /^([A-Z]{3,10}) (\S+) HTTP\/1\.[01]$/;
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: |$)/;
const MCP_META_TRACEPARENT = /"_meta"\s*:\s*\{[^{}]*?"traceparent"\s*:\s*"([^"]{55,128})"/;
const MODEL_VALUE = /^"model"\s*:\s*"([^"\\]{1,128})"/;

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

function setTraceparent(info: WireInfo, raw: string, source: 'header' | 'mcp_meta'): boolean {
  const tp = parseTraceparent(raw);
  if (!tp) return false;
  info.traceparent = tp.value;
  info.traceparentSource = source;
  info.traceId = tp.traceId;
  info.spanId = tp.spanId;
  return true;
}

export function parseWireByRegex(data: Buffer): WireInfo | undefined {
  const text = data.toString('latin1');
  let info: WireInfo | undefined;
  const firstEnd = text.indexOf('\n');
  const first = (firstEnd < 0 ? text : text.slice(0, firstEnd)).replace(/\r$/, '');
  let bodyStart = 0;
  const req = REQUEST_LINE.exec(first);
  const status = req ? null : STATUS_LINE.exec(first);
  if (req || status) {
    info = {};
    if (req) {
      info.method = req[1]!;
      let target = req[2]!;
      const abs = /^[a-z][a-z0-9+.-]*:\/\/[^/]*(\/.*)?$/i.exec(target);
      if (abs) target = abs[1] ?? '/';
      const q = target.search(/[?#]/);
      info.path = q < 0 ? target : target.slice(0, q);
    } else {
      info.statusCode = Number(status![1]);
    }
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
      if (name === 'host' && req) splitHostPort(value, info);
      else if (name === 'content-length') {
        const n = Number(value);
        if (/^\d+$/.test(value) && Number.isSafeInteger(n)) info.contentLength = n;
      } else if (name === 'user-agent') info.userAgent = value;
      else if (name === 'traceparent') setTraceparent(info, value, 'header');
    }
  }
  if (!info?.traceparent && text.includes('"jsonrpc"', bodyStart)) {
    const m = MCP_META_TRACEPARENT.exec(bodyStart > 0 ? text.slice(bodyStart) : text);
    const found: WireInfo = {};
    if (m && setTraceparent(found, m[1]!, 'mcp_meta')) info = { ...info, ...found };
  }
  return info;
}

export function requestModelByRegex(data: Buffer): string | undefined {
  const at = data.indexOf('"model"');
  if (at < 0) return undefined;
  return MODEL_VALUE.exec(data.toString('latin1', at, at + 160))?.[1];
}
