import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../pipeline/consumer.js';
import { logsCodec, tracesCodec, type SignalCodec } from '../../pipeline/otlp/codec.js';
import type { Signal } from '../../pipeline/otlp/types.js';
import { decodeRpcStatus } from '../../pipeline/otlp/rpc-status.js';
import { END_NS, grpcExport, sampleLogs, sampleTraces, START_NS, startReceiver, traceIdOf, type Harness } from './testdata/harness.js';

const traces = tracesCodec as unknown as SignalCodec<Signal>;
const logs = logsCodec as unknown as SignalCodec<Signal>;

let h: Harness | undefined;
afterEach(async () => {
  await h?.receiver.shutdown();
  h = undefined;
});

describe('OTLP/gRPC receiver', () => {
  it('round-trips traces exactly and answers with an ExportTraceServiceResponse', async () => {
    h = await startReceiver();
    const sent = sampleTraces(3);
    const { error, response } = await grpcExport(h.grpcAddress, traces, tracesCodec.encode(sent));
    expect(error).toBeNull();
    expect(tracesCodec.decodeResponse(response!)).toBeUndefined();
    const got = h.traces.received[0]!;
    expect(tracesCodec.toJson(got)).toBe(tracesCodec.toJson(tracesCodec.decode(tracesCodec.encode(sent))));
    const span = got.resourceSpans[0]!.scopeSpans[0]!.spans[1]!;
    expect(Buffer.from(span.traceId).toString('hex')).toBe(traceIdOf(1));
    expect(span.startTimeUnixNano.toString()).toBe(START_NS);
    expect(span.endTimeUnixNano.toString()).toBe(END_NS);
    expect(await h.metrics.value(h.metrics.receiverAccepted, { component: 'otlp', signal: 'traces', transport: 'grpc' })).toBe(3);
  });

  it('round-trips logs, gzip-compressed by the client', async () => {
    h = await startReceiver();
    const sent = sampleLogs(4);
    const { error } = await grpcExport(h.grpcAddress, logs, logsCodec.encode(sent), {
      channelOptions: { 'grpc.default_compression_algorithm': 2 },
    });
    expect(error).toBeNull();
    const record = h.logs.received[0]!.resourceLogs[0]!.scopeLogs[0]!.logRecords[3]!;
    expect(record.timeUnixNano!.toString()).toBe(START_NS);
    expect(logsCodec.toJson(h.logs.received[0]!)).toBe(logsCodec.toJson(logsCodec.decode(logsCodec.encode(sent))));
    expect(await h.metrics.value(h.metrics.receiverAccepted, { signal: 'logs', transport: 'grpc' })).toBe(4);
  });

  it('accepts an empty request without calling the pipeline', async () => {
    h = await startReceiver();
    const { error } = await grpcExport(h.grpcAddress, traces, tracesCodec.encode({ resourceSpans: [] }));
    expect(error).toBeNull();
    expect(h.traces.received).toHaveLength(0);
  });

  it('answers INVALID_ARGUMENT for a truncated message and keeps serving', async () => {
    h = await startReceiver();
    const bytes = tracesCodec.encode(sampleTraces(3));
    const { error } = await grpcExport(h.grpcAddress, traces, bytes.subarray(0, bytes.length - 7));
    expect(error?.code).toBe(status.INVALID_ARGUMENT);
    expect(error?.details).toMatch(/^invalid ExportTraceServiceRequest protobuf: /);
    expect(await h.metrics.value(h.metrics.receiverRequestsRejected, { transport: 'grpc', reason: 'malformed' })).toBe(1);
    expect((await grpcExport(h.grpcAddress, traces, bytes)).error).toBeNull();
  });

  it('answers RESOURCE_EXHAUSTED for a message over max_recv_msg_size_mib', async () => {
    h = await startReceiver((c) => (c.protocols.grpc!.maxRecvMsgSizeMib = 1));
    const big = tracesCodec.encode(sampleTraces(12_000));
    expect(big.length).toBeGreaterThan(1024 * 1024);
    const { error } = await grpcExport(h.grpcAddress, traces, big);
    expect(error?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(h.traces.received).toHaveLength(0);
    expect((await grpcExport(h.grpcAddress, traces, tracesCodec.encode(sampleTraces(1)))).error).toBeNull();
  });

  it('answers UNAVAILABLE with RetryInfo when the pipeline is full, and counts the refused items', async () => {
    h = await startReceiver();
    h.traces.failWith = new RetryableError('queue is full', 1500);
    const { error } = await grpcExport(h.grpcAddress, traces, tracesCodec.encode(sampleTraces(3)));
    expect(error?.code).toBe(status.UNAVAILABLE);
    expect(error?.details).toBe('pipeline refused 3 spans: queue is full');
    const details = error!.metadata.get('grpc-status-details-bin')[0] as Buffer;
    expect(decodeRpcStatus(details)).toEqual({ code: 14, message: 'pipeline refused 3 spans: queue is full', retryDelayMs: 1500 });
    expect(await h.metrics.value(h.metrics.receiverRefused, { signal: 'traces', transport: 'grpc', reason: 'retryable' })).toBe(3);
  });

  it('answers INVALID_ARGUMENT when the pipeline rejects the data permanently', async () => {
    h = await startReceiver();
    h.logs.failWith = new PermanentError('bad record');
    const { error } = await grpcExport(h.grpcAddress, logs, logsCodec.encode(sampleLogs(2)));
    expect(error?.code).toBe(status.INVALID_ARGUMENT);
    expect(error?.details).toBe('pipeline refused 2 log_records: bad record');
    expect(await h.metrics.value(h.metrics.receiverRefused, { signal: 'logs', transport: 'grpc', reason: 'permanent' })).toBe(2);
  });

  it('answers UNIMPLEMENTED for a signal whose pipeline is not configured', async () => {
    h = await startReceiver(undefined, ['traces']);
    const { error } = await grpcExport(h.grpcAddress, logs, logsCodec.encode(sampleLogs(1)));
    expect(error?.code).toBe(status.UNIMPLEMENTED);
  });

  it('requires the bearer token when auth.bearer_token is set', async () => {
    h = await startReceiver((c) => (c.auth.bearerToken = 'grpc-token'));
    const bytes = tracesCodec.encode(sampleTraces(1));
    const none = await grpcExport(h.grpcAddress, traces, bytes);
    expect(none.error?.code).toBe(status.UNAUTHENTICATED);
    const wrong = await grpcExport(h.grpcAddress, traces, bytes, { metadata: { authorization: 'Bearer nope' } });
    expect(wrong.error?.code).toBe(status.UNAUTHENTICATED);
    const ok = await grpcExport(h.grpcAddress, traces, bytes, { metadata: { authorization: 'Bearer grpc-token' } });
    expect(ok.error).toBeNull();
    expect(await h.metrics.value(h.metrics.receiverRequestsRejected, { transport: 'grpc', reason: 'unauthenticated' })).toBe(2);
  });
});
