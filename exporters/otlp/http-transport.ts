import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { SignalCodec } from '../../pipeline/otlp/codec.js';
import type { PartialSuccess, Signal } from '../../pipeline/otlp/types.js';
import type { OtlpExporterConfig } from './config.js';
import type { ExportResult, Transport } from './result.js';
import { decodeRpcStatus } from '../../pipeline/otlp/rpc-status.js';

const gzip = promisify(zlib.gzip);
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/** The URL a signal is posted to: its own `<signal>_endpoint`, else endpoint + /v1/<signal>. */
export function httpUrl(config: OtlpExporterConfig, codec: SignalCodec<Signal>): string {
  const own = codec.signal === 'traces' ? config.tracesEndpoint : config.logsEndpoint;
  return own || config.endpoint.replace(/\/+$/, '') + codec.httpPath;
}

/** Retry-After as seconds or an HTTP date, in milliseconds from now. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** OTLP/HTTP (protobuf or JSON) over node:http(s) with a keep-alive agent. */
export async function createHttpTransport<S extends Signal>(config: OtlpExporterConfig, codec: SignalCodec<S>): Promise<Transport> {
  const url = new URL(httpUrl(config, codec as unknown as SignalCodec<Signal>));
  const secure = url.protocol === 'https:';
  const { caFile, certFile, keyFile, insecureSkipVerify } = config.tls;
  const [ca, cert, key] = secure
    ? await Promise.all([caFile, certFile, keyFile].map((f) => (f ? readFile(f) : Promise.resolve(undefined))))
    : [];
  const agent = secure
    ? new https.Agent({ keepAlive: true, ca, cert, key, rejectUnauthorized: !insecureSkipVerify })
    : new http.Agent({ keepAlive: true });
  const request = secure ? https.request : http.request;
  const contentType = config.encoding === 'json' ? 'application/json' : 'application/x-protobuf';
  const headers: Record<string, string> = { ...config.headers, 'content-type': contentType };
  if (config.compression === 'gzip') headers['content-encoding'] = 'gzip';

  return {
    encoding: config.encoding,
    async export(payload, signal) {
      if (signal.aborted) return { kind: 'retryable', message: 'aborted before sending' };
      const body = config.compression === 'gzip' ? await gzip(payload) : payload;
      return new Promise<ExportResult>((resolve) => {
        let settled = false;
        const done = (r: ExportResult) => {
          if (settled) return;
          settled = true;
          signal.removeEventListener('abort', onAbort);
          resolve(r);
        };
        const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.byteLength) } }, (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size <= MAX_RESPONSE_BYTES) chunks.push(c);
          });
          res.on('error', (err) => done({ kind: 'retryable', message: `reading response: ${err.message}` }));
          res.on('end', () => done(classify(res, Buffer.concat(chunks), codec)));
        });
        const onAbort = () => req.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
        signal.addEventListener('abort', onAbort, { once: true });
        req.on('error', (err) => done({ kind: 'retryable', message: `POST ${url.href}: ${err.message}` }));
        req.end(body);
      });
    },
    async close() {
      agent.destroy();
    },
  };
}

function classify<S extends Signal>(res: http.IncomingMessage, body: Buffer, codec: SignalCodec<S>): ExportResult {
  const status = res.statusCode ?? 0;
  const json = (res.headers['content-type'] ?? '').includes('json');
  if (status >= 200 && status < 300) {
    let partial: PartialSuccess | undefined;
    try {
      if (body.length > 0) partial = json ? codec.responseFromJson(body.toString('utf8')) : codec.decodeResponse(body);
    } catch {
      // A 2xx means the data was accepted; an unreadable body only loses the partial-success detail.
    }
    return { kind: 'ok', ...(partial ? { partial } : {}) };
  }
  const detail = errorDetail(body, json);
  const message = `HTTP ${status}${detail.message ? `: ${detail.message}` : ''}`;
  if (!RETRYABLE_STATUS.has(status)) return { kind: 'permanent', message };
  const retryAfterMs = parseRetryAfter(res.headers['retry-after']) ?? detail.retryDelayMs;
  return { kind: 'retryable', message, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
}

/** OTLP/HTTP error bodies are a google.rpc.Status (protobuf or JSON); fall back to the text. */
function errorDetail(body: Buffer, json: boolean): { message: string; retryDelayMs?: number } {
  if (body.length === 0) return { message: '' };
  if (!json) {
    const s = decodeRpcStatus(body);
    if (s && s.message) return s;
  } else {
    try {
      const o = JSON.parse(body.toString('utf8')) as { message?: unknown };
      if (typeof o.message === 'string') return { message: o.message };
    } catch {
      // not JSON after all: use the text
    }
  }
  return { message: body.toString('utf8', 0, Math.min(body.length, 300)).replace(/\s+/g, ' ').trim() };
}
