import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Collector } from '../support/collector.js';
import { Jaeger } from '../support/jaeger.js';
import { plainAttributes } from '../support/otlp-json.js';
import { freePorts } from '../support/ports.js';
import { expectLogsAsSent, runApp, type SentDescription } from '../support/apps.js';
import { jaegerBin } from '../support/tools.js';

const KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;
const STATUS = { UNSET: 0, OK: 1, ERROR: 2 } as const;
const bin = jaegerBin();

describe('OTel JS SDK -> aibom-collector -> real Jaeger v2', () => {
  let jaeger: Jaeger;
  let collector: Collector;
  let grpcPort: number;
  let httpPort: number;
  let logsFile: string;

  beforeAll(async () => {
    jaeger = await Jaeger.start(bin);
    [grpcPort, httpPort] = (await freePorts(2)) as [number, number];
    logsFile = join(mkdtempSync(join(tmpdir(), 'aibom-e2e-')), 'logs.jsonl');
    collector = await Collector.start(`
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:${grpcPort} }
      http: { endpoint: 127.0.0.1:${httpPort} }
processors:
  batch: { timeout: 100ms }
exporters:
  otlp/jaeger:
    endpoint: ${jaeger.otlpGrpcEndpoint}
    tls: { insecure: true }
  file: { path: ${logsFile} }
service:
  admin: { endpoint: \${ADMIN} }
  pipelines:
    traces: { receivers: [otlp], processors: [batch], exporters: [otlp/jaeger] }
    logs: { receivers: [otlp], processors: [batch], exporters: [otlp/jaeger, file] }
`);
  });

  afterAll(async () => {
    await collector?.stop();
    await jaeger?.stop();
  });

  for (const protocol of ['grpc', 'http'] as const) {
    test(`every span, attribute, event, link and log arrives intact (SDK over OTLP/${protocol})`, async () => {
      const port = protocol === 'grpc' ? grpcPort : httpPort;
      const sent = await runApp<SentDescription>('otel-sdk-app/send.mjs', ['--endpoint', `http://127.0.0.1:${port}`, '--protocol', protocol, '--service', `sdk-${protocol}`]);
      expect(sent.export.spans.failed).toBe(0);
      expect(sent.export.logs.failed).toBe(0);

      for (const traceId of sent.traceIds) {
        const expected = sent.spans.filter((s) => s.traceId === traceId);
        const got = await jaeger.waitForSpans(traceId, expected.length);
        expect(got).toHaveLength(expected.length);
        for (const want of expected) {
          const span = got.find((s) => s.spanId === want.spanId);
          expect(span, `span ${want.name}`).toBeDefined();
          expect(span!.name).toBe(want.name);
          expect(span!.parentSpanId || null).toBe(want.parentSpanId);
          expect(span!.kind).toBe(KIND[want.kind as keyof typeof KIND]);
          expect(span!.startTimeUnixNano).toBe(want.startTimeUnixNano);
          expect(span!.endTimeUnixNano).toBe(want.endTimeUnixNano);
          expect(plainAttributes(span!.attributes)).toEqual(want.attributes);
          // Jaeger's storage model keeps events in its own order; compare them as a set.
          const byTime = (a: { time: string; name: string }, b: { time: string; name: string }) => a.time.localeCompare(b.time) || a.name.localeCompare(b.name);
          const events = (span!.events ?? []).map((e) => ({ name: e.name, time: e.timeUnixNano, attributes: plainAttributes(e.attributes) }));
          for (const e of events.filter((x) => x.name === 'exception')) {
            // recordException adds the stack the app does not describe: check it arrived, then compare the rest.
            expect(e.attributes['exception.stacktrace']).toMatch(/^CardDeclinedError: card declined\n\s+at /);
            delete e.attributes['exception.stacktrace'];
          }
          expect(events.sort(byTime)).toEqual([...want.events].sort(byTime));
          expect((span!.links ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId, attributes: plainAttributes(l.attributes) }))).toEqual(want.links);
          expect(span!.status?.code ?? 0).toBe(STATUS[(want.status?.code ?? 'UNSET') as keyof typeof STATUS]);
          expect(span!.status?.message ?? '').toBe(want.status?.message ?? '');
          expect(plainAttributes(span!.resource)).toMatchObject(sent.resource);
          expect(span!.scope?.name).toBe('aibom-test-otel-sdk-app');
        }
      }

      await expectLogsAsSent(logsFile, sent);
      expect(await collector.metric('aibom_exporter_dropped_items_total')).toBe(0);
      expect(await collector.metric('aibom_receiver_accepted_items_total', { signal: 'traces', transport: protocol })).toBeGreaterThanOrEqual(sent.spans.length);
    });
  }
});
