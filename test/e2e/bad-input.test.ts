import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { attr, bigIntToLong, nowUnixNanos, tracesCodec } from '../../pipeline/otlp/index.js';
import type { TracesData } from '../../pipeline/otlp/index.js';
import { Collector } from '../support/collector.js';
import { freePorts } from '../support/ports.js';
import { waitFor } from '../support/process.js';
import { collectorMain } from '../support/tools.js';

function traces(name: string, n: number): TracesData {
  const now = nowUnixNanos();
  return {
    resourceSpans: [
      {
        resource: { attributes: [attr('service.name', 'bad-input-test')] },
        scopeSpans: [
          {
            spans: Array.from({ length: n }, (_, i) => ({
              traceId: Buffer.alloc(16, 7),
              spanId: Buffer.from(i.toString(16).padStart(16, '0'), 'hex'),
              name: `${name}.${i}`,
              startTimeUnixNano: bigIntToLong(now),
              endTimeUnixNano: bigIntToLong(now + 1000n),
            })),
          },
        ],
      },
    ],
  };
}

function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [collectorMain(), ...args], { env: { ...process.env, ...env } }, (err, stdout, stderr) => resolve({ code: err ? (err as { code?: number }).code ?? 1 : 0, stdout, stderr }));
  });
}

describe('bad input: clear errors, collector alive, nothing accepted is lost', () => {
  let collector: Collector;
  let out: string;
  let http: string;
  let grpcPort: number;

  beforeAll(async () => {
    const [g, h] = await freePorts(2);
    grpcPort = g!;
    http = `http://127.0.0.1:${h}`;
    out = join(mkdtempSync(join(tmpdir(), 'aibom-bad-')), 'out.jsonl');
    collector = await Collector.start(`
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:${g}, max_recv_msg_size_mib: 1 }
      http: { endpoint: 127.0.0.1:${h}, max_request_body_size: 65536 }
exporters:
  file: { path: ${out} }
service:
  admin: { endpoint: \${ADMIN} }
  pipelines:
    traces: { receivers: [otlp], exporters: [file] }
`);
  });
  afterAll(async () => {
    await collector?.stop();
  });

  const post = (body: Uint8Array | string, headers: Record<string, string>) => fetch(`${http}/v1/traces`, { method: 'POST', body: body as unknown as BodyInit, headers });

  test('HTTP: each malformed request gets a precise status and message; good data around them all arrives', async () => {
    expect((await post(tracesCodec.encode(traces('before', 3)), { 'content-type': 'application/x-protobuf' })).status).toBe(200);

    const good = tracesCodec.encode(traces('x', 5));
    const truncated = await post(good.subarray(0, good.length - 9), { 'content-type': 'application/x-protobuf' });
    expect(truncated.status).toBe(400);
    expect(await truncated.text()).toMatch(/protobuf/i);

    const wrongType = await post('hello', { 'content-type': 'text/plain' });
    expect(wrongType.status).toBe(415);
    expect(await wrongType.text()).toMatch(/content-type/i);

    const badJson = await post('{"resourceSpans": [', { 'content-type': 'application/json' });
    expect(badJson.status).toBe(400);
    expect(await badJson.text()).toMatch(/JSON/);

    const huge = await post(Buffer.alloc(200_000, 1), { 'content-type': 'application/x-protobuf' });
    expect(huge.status).toBe(413);

    const bomb = await post(gzipSync(Buffer.alloc(10_000_000, 0)), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
    expect(bomb.status).toBe(413);

    expect((await fetch(`${collector.adminUrl}/healthz`)).status).toBe(200);
    expect((await post(tracesCodec.toJson(traces('after', 4)), { 'content-type': 'application/json' })).status).toBe(200);

    const names = await waitFor('the 7 good spans in the output', () => {
      const spans = readFileSync(out, 'utf8')
        .split('\n')
        .filter(Boolean)
        .flatMap((l) => tracesCodec.fromJson(l).resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => s.name))));
      return spans.length >= 7 ? spans : undefined;
    });
    expect(names.sort()).toEqual(['after.0', 'after.1', 'after.2', 'after.3', 'before.0', 'before.1', 'before.2']);
    expect(await collector.metric('aibom_receiver_rejected_requests_total')).toBeGreaterThanOrEqual(5);
  });

  test('gRPC: truncated protobuf is INVALID_ARGUMENT and an oversize message RESOURCE_EXHAUSTED', async () => {
    const client = new grpc.Client(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
    const call = (payload: Buffer) =>
      new Promise<grpc.ServiceError | null>((resolve) => {
        client.makeUnaryRequest(tracesCodec.grpcPath, (b: Buffer) => b, (b: Buffer) => b, payload, (err) => resolve(err));
      });
    const good = Buffer.from(tracesCodec.encode(traces('g', 2)));
    const truncated = await call(good.subarray(0, good.length - 5));
    expect(truncated?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(truncated?.details).toMatch(/protobuf/i);
    const oversize = await call(Buffer.alloc(2 * 1024 * 1024, 1));
    expect(oversize?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(await call(good)).toBeNull();
    client.close();
  });

  test('a bad config file: validate lists every error with its path and exits 1; run refuses to start', async () => {
    const file = join(import.meta.dirname, 'testdata', 'bad-config.yaml');
    const v = await runCli(['validate', '--config', file]);
    expect(v.code).toBe(1);
    for (const expected of [
      'receivers.otlp.protocols: has invalid keys: htttp',
      'receivers.otlp.protocols.grpc.endpoint',
      'processors.batch.send_batch_size',
      'processors.batch.timeout',
      'exporters.otlp/jaeger: has invalid keys: compresion',
      'service.pipelines.traces.exporters: references exporter "file" which is not configured',
    ]) {
      expect(v.stderr).toContain(expected);
    }
    const r = await runCli(['run', '--config', file]);
    expect(r.code).toBe(1);
    const missing = await runCli(['validate', '--config', '/nonexistent.yaml']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read config: ENOENT/);
    const notYaml = join(mkdtempSync(join(tmpdir(), 'aibom-cfg-')), 'x.yaml');
    writeFileSync(notYaml, 'receivers: [\n');
    expect((await runCli(['validate', '--config', notYaml])).stderr).toMatch(/YAML/);
  });

  test('a bearer token from an env variable holding null, ~ or nothing: run refuses to start, naming key and variable', async () => {
    const [port] = await freePorts(1);
    const yaml = `receivers:
  otlp:
    protocols:
      http: { endpoint: "127.0.0.1:${port}" }
    auth:
      bearer_token: \${env:AIBOM_TEST_TOKEN}
exporters:
  debug:
service:
  admin: { endpoint: "\${ADMIN}" }
  pipelines:
    traces: { receivers: [otlp], exporters: [debug] }
`;
    const file = join(mkdtempSync(join(tmpdir(), 'aibom-cfg-')), 'auth.yaml');
    writeFileSync(file, yaml.replace('${ADMIN}', ''));
    for (const value of ['null', '~', '']) {
      const r = await runCli(['run', '--config', file], { AIBOM_TEST_TOKEN: value });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain('receivers.otlp.auth.bearer_token: environment variable AIBOM_TEST_TOKEN');
    }
    // With a token it starts, and a request without it is refused.
    const c = await Collector.start(yaml, { AIBOM_TEST_TOKEN: 'tok-0123' });
    try {
      const post = (headers: Record<string, string>) =>
        fetch(`http://127.0.0.1:${port}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"resourceSpans":[]}' });
      expect((await post({})).status).toBe(401);
      expect((await post({ authorization: 'Bearer tok-0123' })).status).toBe(200);
    } finally {
      await c.stop();
    }
  });

  test('the embedded default config is valid and --version/--help answer', async () => {
    expect((await runCli(['validate'])).code).toBe(0);
    expect((await runCli(['--version'])).stdout).toMatch(/^aibom-collector \d+\.\d+\.\d+/);
    expect((await runCli(['--help'])).stdout).toContain('aibom-collector run');
    expect((await runCli(['frobnicate'])).code).toBe(2);
  });
});
