import { status } from '@grpc/grpc-js';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { attr } from '../../pipeline/otlp/attributes.js';
import { tracesCodec, type SignalCodec } from '../../pipeline/otlp/codec.js';
import { Section, ConfigErrors } from '../../pipeline/config/section.js';
import type { Signal } from '../../pipeline/otlp/types.js';
import { readConfig } from './config.js';
import { RequestBudget } from './request-budget.js';
import { grpcExport, post, sampleTraces, startReceiver, type Harness } from './testdata/harness.js';

const PROTO = { 'content-type': 'application/x-protobuf' };
const traces = tracesCodec as unknown as SignalCodec<Signal>;
const MIB = 1024 * 1024;

/** A request of about `bytes`: one span carrying a large content attribute, as an agent's LLM span does. */
function bigRequest(bytes: number): Uint8Array {
  const data = sampleTraces(1);
  data.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.attributes!.push(attr('input.value', 'x'.repeat(bytes)));
  return tracesCodec.encode(data);
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.receiver.shutdown();
  h = undefined;
});

/** A receiver with 1 MiB limits and a 1 MiB budget whose pipeline holds the first request until `release`. */
async function heldReceiver(): Promise<{ h: Harness; release: () => void; rejected: (transport: string) => Promise<number> }> {
  const r = await startReceiver((c) => {
    c.protocols.grpc!.maxRecvMsgSizeMib = 1;
    c.protocols.http!.maxRequestBodySize = MIB;
    c.maxInFlightBytes = MIB;
  });
  let release!: () => void;
  r.traces.gate = new Promise<void>((resolve) => (release = resolve));
  const rejected = (transport: string) => r.metrics.value(r.metrics.receiverRequestsRejected, { transport, reason: 'over_budget' });
  return { h: r, release, rejected };
}

describe('max_in_flight_bytes: the bytes of request bodies the receiver holds at once', () => {
  it('refuses what does not fit beside a held request as retryable, on both protocols, and takes it once that one is through', async () => {
    const held = await heldReceiver();
    h = held.h;
    const big = bigRequest(600_000);
    // Held by the pipeline: its 600 kB stay taken until it is answered.
    const first = grpcExport(h.grpcAddress, traces, big);
    await waitFor(() => h!.traces.calls === 1);

    const overHttp = await post(`${h.httpUrl}/v1/traces`, big, { headers: PROTO });
    expect(overHttp.status).toBe(503);
    expect(overHttp.headers['retry-after']).toBe('1');
    const overGrpc = await grpcExport(h.grpcAddress, traces, big);
    expect(overGrpc.error?.code).toBe(status.UNAVAILABLE);
    expect(overGrpc.error?.details).toMatch(/max_in_flight_bytes \(1048576\); a request of 600\d+ bytes must wait: retry later/);
    // A chunked body is taken chunk by chunk, a compressed one once inflated (1 kB sent, 600 kB held).
    expect((await post(`${h.httpUrl}/v1/traces`, big, { headers: PROTO, chunked: true })).status).toBe(503);
    expect((await post(`${h.httpUrl}/v1/traces`, gzipSync(big), { headers: { ...PROTO, 'content-encoding': 'gzip' } })).status).toBe(503);
    expect(await held.rejected('http')).toBe(3);
    expect(await held.rejected('grpc')).toBe(1);
    // A small request still fits beside the held one: it reaches the pipeline (which holds it too).
    const small = post(`${h.httpUrl}/v1/traces`, tracesCodec.encode(sampleTraces(2)), { headers: PROTO });
    await waitFor(() => h!.traces.calls === 2);

    held.release();
    expect((await first).error).toBeNull();
    expect((await small).status).toBe(200);
    // Everything taken was given back: refused requests' shares too, or these would not fit.
    expect((await post(`${h.httpUrl}/v1/traces`, big, { headers: PROTO })).status).toBe(200);
    expect((await grpcExport(h.grpcAddress, traces, big)).error).toBeNull();
    expect((await post(`${h.httpUrl}/v1/traces`, gzipSync(big), { headers: { ...PROTO, 'content-encoding': 'gzip' } })).status).toBe(200);
    expect(h.traces.received).toHaveLength(5);
  });

  it('gives back what a cancelled or refused call took', async () => {
    const held = await heldReceiver();
    h = held.h;
    held.release();
    const big = bigRequest(600_000);
    // Malformed after its prefix: refused, its share given back.
    const bad = Buffer.from(big);
    bad[0] = 0xff;
    for (let i = 0; i < 3; i++) expect((await grpcExport(h.grpcAddress, traces, bad)).error?.code).toBe(status.INVALID_ARGUMENT);
    for (let i = 0; i < 3; i++) expect((await post(`${h.httpUrl}/v1/traces`, bad, { headers: PROTO })).status).toBe(400);
    expect((await grpcExport(h.grpcAddress, traces, big)).error).toBeNull();
    expect((await post(`${h.httpUrl}/v1/traces`, big, { headers: PROTO })).status).toBe(200);
    expect(await held.rejected('grpc')).toBe(0);
    expect(await held.rejected('http')).toBe(0);
  });

  it('counts what it holds', () => {
    const b = new RequestBudget(10);
    expect(b.take(6)).toBe(true);
    expect(b.take(5)).toBe(false);
    expect(b.inUse).toBe(6);
    expect(b.take(4)).toBe(true);
    b.give(6);
    b.give(4);
    expect(b.inUse).toBe(0);
  });

  it('is at least the largest request a protocol accepts, and 256 MiB by default beside 64 MiB limits', () => {
    const read = (yaml: Record<string, unknown>) => {
      const errors = new ConfigErrors();
      const section = new Section(yaml, 'receivers.otlp', errors);
      const config = readConfig(section);
      section.done();
      return { config, errors: errors.list };
    };
    const d = read({ protocols: { grpc: null, http: null } });
    expect(d.errors).toEqual([]);
    expect([d.config.maxInFlightBytes, d.config.protocols.grpc!.maxRecvMsgSizeMib, d.config.protocols.http!.maxRequestBodySize]).toEqual([256 * MIB, 64, 64 * MIB]);
    expect(read({ protocols: { grpc: { max_recv_msg_size_mib: 300 } } }).errors).toEqual([
      'receivers.otlp.max_in_flight_bytes: must be at least the largest request a protocol accepts (314572800 bytes)',
    ]);
    expect(read({ protocols: { grpc: { max_recv_msg_size_mib: 300 } }, max_in_flight_bytes: '1GiB' }).errors).toEqual([]);
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
