import { gzipSync, deflateSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../pipeline/consumer.js';
import { logsCodec, tracesCodec } from '../../pipeline/otlp/codec.js';
import { decodeRpcStatus } from '../../pipeline/otlp/rpc-status.js';
import { END_NS, post, sampleLogs, sampleTraces, START_NS, startReceiver, traceIdOf, type Harness } from './testdata/harness.js';

const PROTO = { 'content-type': 'application/x-protobuf' };
const JSON_CT = { 'content-type': 'application/json' };

let h: Harness | undefined;
afterEach(async () => {
  await h?.receiver.shutdown();
  h = undefined;
});

async function rejected(reason: string): Promise<number> {
  return h!.metrics.value(h!.metrics.receiverRequestsRejected, { transport: 'http', reason });
}

describe('OTLP/HTTP receiver', () => {
  it('round-trips protobuf traces exactly and answers with a protobuf ExportTraceServiceResponse', async () => {
    h = await startReceiver();
    const sent = sampleTraces(3);
    const reply = await post(`${h.httpUrl}/v1/traces`, tracesCodec.encode(sent), { headers: PROTO });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/x-protobuf');
    expect(tracesCodec.decodeResponse(reply.body)).toBeUndefined();
    expect(h.traces.received).toHaveLength(1);
    const got = h.traces.received[0]!;
    expect(tracesCodec.toJson(got)).toBe(tracesCodec.toJson(tracesCodec.decode(tracesCodec.encode(sent))));
    const span = got.resourceSpans[0]!.scopeSpans[0]!.spans[2]!;
    expect(Buffer.from(span.traceId).toString('hex')).toBe(traceIdOf(2));
    expect(Buffer.from(span.spanId).toString('hex')).toBe('b7ad6b7169203312');
    expect(span.startTimeUnixNano.toString()).toBe(START_NS);
    expect(span.endTimeUnixNano.toString()).toBe(END_NS);
    expect(await h.metrics.value(h.metrics.receiverAccepted, { component: 'otlp', signal: 'traces', transport: 'http' })).toBe(3);
  });

  it('round-trips JSON logs (hex ids, string nanoseconds) and answers in JSON', async () => {
    h = await startReceiver();
    const sent = sampleLogs(2);
    const reply = await post(`${h.httpUrl}/v1/logs`, logsCodec.toJson(sent), { headers: { 'content-type': 'application/json; charset=utf-8' } });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/json');
    expect(JSON.parse(reply.body.toString())).toEqual({});
    const record = h.logs.received[0]!.resourceLogs[0]!.scopeLogs[0]!.logRecords[1]!;
    expect(Buffer.from(record.traceId!).toString('hex')).toBe(traceIdOf(1));
    expect(record.timeUnixNano!.toString()).toBe(START_NS);
    expect(record.observedTimeUnixNano!.toString()).toBe(END_NS);
    expect(logsCodec.toJson(h.logs.received[0]!)).toBe(logsCodec.toJson(logsCodec.decode(logsCodec.encode(sent))));
    expect(await h.metrics.value(h.metrics.receiverAccepted, { signal: 'logs', transport: 'http' })).toBe(2);
  });

  it('accepts gzip and deflate bodies', async () => {
    h = await startReceiver();
    const bytes = tracesCodec.encode(sampleTraces(2));
    const gz = await post(`${h.httpUrl}/v1/traces`, gzipSync(bytes), { headers: { ...PROTO, 'content-encoding': 'gzip' } });
    const df = await post(`${h.httpUrl}/v1/traces`, deflateSync(bytes), { headers: { ...PROTO, 'content-encoding': 'deflate' } });
    expect([gz.status, df.status]).toEqual([200, 200]);
    expect(h.traces.received.map((d) => tracesCodec.count(d))).toEqual([2, 2]);
  });

  it('serves the configured url paths instead of the defaults', async () => {
    h = await startReceiver((c) => {
      c.protocols.http!.tracesUrlPath = '/otlp/t';
      c.protocols.http!.logsUrlPath = '/otlp/l';
    });
    expect((await post(`${h.httpUrl}/otlp/t`, tracesCodec.encode(sampleTraces(1)), { headers: PROTO })).status).toBe(200);
    expect((await post(`${h.httpUrl}/otlp/l`, logsCodec.encode(sampleLogs(1)), { headers: PROTO })).status).toBe(200);
    expect((await post(`${h.httpUrl}/v1/traces`, tracesCodec.encode(sampleTraces(1)), { headers: PROTO })).status).toBe(404);
  });

  it('accepts an empty request without calling the pipeline', async () => {
    h = await startReceiver();
    const reply = await post(`${h.httpUrl}/v1/traces`, '{"resourceSpans":[]}', { headers: JSON_CT });
    expect(reply.status).toBe(200);
    expect(h.traces.received).toHaveLength(0);
  });

  it('answers 413 for a body over max_request_body_size (declared or chunked) and keeps serving', async () => {
    h = await startReceiver((c) => (c.protocols.http!.maxRequestBodySize = 4096));
    const big = tracesCodec.encode(sampleTraces(200));
    expect(big.length).toBeGreaterThan(4096 * 4);
    const declared = await post(`${h.httpUrl}/v1/traces`, big, { headers: PROTO });
    expect(declared.status).toBe(413);
    expect(declared.body.toString()).toContain('exceeds max_request_body_size (4096 bytes)');
    expect(decodeRpcStatus(declared.body)!.code).toBe(8);
    const chunked = await post(`${h.httpUrl}/v1/traces`, big, { headers: JSON_CT, chunked: true });
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body.toString()).message).toBe('request body exceeds max_request_body_size (4096 bytes)');
    // A sender streaming far more than the limit still gets its answer (the rest is discarded).
    const huge = Buffer.alloc(8 * 1024 * 1024, 0x0a);
    expect((await post(`${h.httpUrl}/v1/traces`, huge, { headers: PROTO, chunked: true })).status).toBe(413);
    expect((await post(`${h.httpUrl}/v1/traces`, huge, { headers: PROTO })).status).toBe(413);
    expect(await rejected('too_large')).toBe(4);
    expect((await post(`${h.httpUrl}/v1/traces`, tracesCodec.encode(sampleTraces(1)), { headers: PROTO })).status).toBe(200);
  });

  it('limits the decompressed size too (zip bomb -> 413)', async () => {
    h = await startReceiver((c) => (c.protocols.http!.maxRequestBodySize = 64 * 1024));
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(64 * 1024);
    const reply = await post(`${h.httpUrl}/v1/traces`, bomb, { headers: { ...JSON_CT, 'content-encoding': 'gzip' } });
    expect(reply.status).toBe(413);
    expect(JSON.parse(reply.body.toString()).message).toBe('decompressed gzip body exceeds max_request_body_size (65536 bytes)');
    expect(await rejected('too_large')).toBe(1);
  });

  it('answers 400 for truncated protobuf, invalid JSON and a corrupt gzip stream', async () => {
    h = await startReceiver();
    const bytes = tracesCodec.encode(sampleTraces(3));
    const truncated = await post(`${h.httpUrl}/v1/traces`, bytes.subarray(0, bytes.length - 7), { headers: PROTO });
    expect(truncated.status).toBe(400);
    expect(decodeRpcStatus(truncated.body)).toMatchObject({ code: 3, message: expect.stringContaining('invalid ExportTraceServiceRequest protobuf') });

    const badJson = await post(`${h.httpUrl}/v1/traces`, '{"resourceSpans": [', { headers: JSON_CT });
    expect(badJson.status).toBe(400);
    expect(badJson.headers['content-type']).toBe('application/json');
    expect(JSON.parse(badJson.body.toString()).message).toMatch(/^invalid ExportTraceServiceRequest JSON: /);

    const badId = await post(`${h.httpUrl}/v1/traces`, '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz"}]}]}]}', { headers: JSON_CT });
    expect(badId.status).toBe(400);
    expect(JSON.parse(badId.body.toString()).message).toContain('resourceSpans[0].scopeSpans[0].spans[0].traceId: expected a hex string');

    const badGzip = await post(`${h.httpUrl}/v1/traces`, Buffer.from('not gzip'), { headers: { ...PROTO, 'content-encoding': 'gzip' } });
    expect(badGzip.status).toBe(400);
    expect(decodeRpcStatus(badGzip.body)!.message).toMatch(/^invalid gzip body: /);

    expect(await rejected('malformed')).toBe(4);
    expect(h.traces.received).toHaveLength(0);
  });

  it('answers 415 for a wrong content-type or content-encoding, 405 for a wrong method, 404 for an unknown path', async () => {
    h = await startReceiver();
    const body = tracesCodec.encode(sampleTraces(1));
    const ct = await post(`${h.httpUrl}/v1/traces`, body, { headers: { 'content-type': 'text/plain' } });
    expect(ct.status).toBe(415);
    expect(ct.body.toString()).toContain('unsupported content-type "text/plain"; use application/x-protobuf or application/json');
    const noCt = await post(`${h.httpUrl}/v1/traces`, body);
    expect(noCt.status).toBe(415);
    const enc = await post(`${h.httpUrl}/v1/traces`, body, { headers: { ...JSON_CT, 'content-encoding': 'br' } });
    expect(enc.status).toBe(415);
    expect(JSON.parse(enc.body.toString()).message).toContain('unsupported content-encoding "br"');
    const get = await post(`${h.httpUrl}/v1/traces`, '', { method: 'GET' });
    expect(get.status).toBe(405);
    expect(get.headers['allow']).toBe('POST');
    const nf = await post(`${h.httpUrl}/v1/metrics`, body, { headers: PROTO });
    expect(nf.status).toBe(404);
    expect(decodeRpcStatus(nf.body)!.message).toBe('no OTLP endpoint at /v1/metrics; POST to /v1/traces or /v1/logs');
    expect(await rejected('unsupported_media_type')).toBe(2);
    expect(await rejected('unsupported_encoding')).toBe(1);
    expect(await rejected('method_not_allowed')).toBe(1);
    expect(await rejected('not_found')).toBe(1);
  });

  it('does not serve a signal whose pipeline is not configured', async () => {
    h = await startReceiver(undefined, ['traces']);
    expect((await post(`${h.httpUrl}/v1/logs`, logsCodec.encode(sampleLogs(1)), { headers: PROTO })).status).toBe(404);
  });

  it('answers 503 with Retry-After when the pipeline is full, and counts the refused items', async () => {
    h = await startReceiver();
    h.traces.failWith = new RetryableError('queue is full', 2500);
    const reply = await post(`${h.httpUrl}/v1/traces`, tracesCodec.toJson(sampleTraces(3)), { headers: JSON_CT });
    expect(reply.status).toBe(503);
    expect(reply.headers['retry-after']).toBe('3');
    expect(JSON.parse(reply.body.toString())).toEqual({
      code: 14,
      message: 'pipeline refused 3 spans: queue is full',
      details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '2.5s' }],
    });

    h.traces.failWith = new Error('exporter crashed');
    const proto = await post(`${h.httpUrl}/v1/traces`, tracesCodec.encode(sampleTraces(2)), { headers: PROTO });
    expect(proto.status).toBe(503);
    expect(proto.headers['retry-after']).toBe('1');
    expect(decodeRpcStatus(proto.body)).toEqual({ code: 14, message: 'pipeline refused 2 spans: exporter crashed', retryDelayMs: 1000 });

    expect(await h.metrics.value(h.metrics.receiverRefused, { signal: 'traces', transport: 'http', reason: 'retryable' })).toBe(5);
    expect(await h.metrics.value(h.metrics.receiverAccepted, { signal: 'traces' })).toBe(0);
  });

  it('answers 400 when the pipeline rejects the data permanently', async () => {
    h = await startReceiver();
    h.logs.failWith = new PermanentError('attribute too long');
    const reply = await post(`${h.httpUrl}/v1/logs`, logsCodec.encode(sampleLogs(2)), { headers: PROTO });
    expect(reply.status).toBe(400);
    expect(reply.headers['retry-after']).toBeUndefined();
    expect(decodeRpcStatus(reply.body)).toEqual({ code: 3, message: 'pipeline refused 2 log_records: attribute too long' });
    expect(await h.metrics.value(h.metrics.receiverRefused, { signal: 'logs', transport: 'http', reason: 'permanent' })).toBe(2);
  });

  it('requires the bearer token when auth.bearer_token is set', async () => {
    h = await startReceiver((c) => (c.auth.bearerToken = 's3cr3t-token'));
    const body = tracesCodec.encode(sampleTraces(1));
    const none = await post(`${h.httpUrl}/v1/traces`, body, { headers: PROTO });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    const wrong = await post(`${h.httpUrl}/v1/traces`, body, { headers: { ...PROTO, authorization: 'Bearer s3cr3t-tokeN' } });
    expect(wrong.status).toBe(401);
    const basic = await post(`${h.httpUrl}/v1/traces`, body, { headers: { ...PROTO, authorization: 'Basic s3cr3t-token' } });
    expect(basic.status).toBe(401);
    const ok = await post(`${h.httpUrl}/v1/traces`, body, { headers: { ...PROTO, authorization: 'bearer s3cr3t-token' } });
    expect(ok.status).toBe(200);
    expect(await rejected('unauthenticated')).toBe(3);
    expect(h.traces.received).toHaveLength(1);
  });
});
