import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { APPS, type ReferencePeers } from '../support/apps.js';
import { Collector } from '../support/collector.js';
import type { JsonKeyValue } from '../support/jaeger.js';
import { startListening } from '../support/listening.js';
import { plainAttributes } from '../support/otlp-json.js';
import { Otelcol, otelcolBin } from '../support/otelcol.js';
import { freePorts } from '../support/ports.js';
import { waitFor, type Proc } from '../support/process.js';
import { attackRun, deviationsKept, learnAndFreeze, provenanceJudged, watchedComm } from '../support/reference-flow.js';
import { requireTool, ROOT } from '../support/tools.js';

/**
 * otel-config/alerting/otelcol-count-connector.yaml, as it is, in a real OpenTelemetry Collector
 * (v0.161.0 with the contrib count connector, .ci/otelcol-builder.yaml) behind aibom-collector running
 * otel-config/examples/in-front-of-otelcol.yaml, with the real LangChain.js agent and eBPF sensor: the
 * reference flow (learn, freeze, prompt injection) goes through, and the `aibom.deviations` metric
 * counts every `aibom.deviation` record aibom-collector sent (its history), by rule, family, severity
 * and component. A second file the Collector merges after the snippet (as a user merges it into their
 * config) only adds where the metric goes: a file instead of `debug`, since the snippet leaves the
 * metrics backend to the user; a file for the traces aibom-collector sends beside the logs; and the
 * Collector's own metrics on a free port instead of 8888.
 */
const SNIPPET = join(ROOT, 'otel-config', 'alerting', 'otelcol-count-connector.yaml');
const IN_FRONT = join(ROOT, 'otel-config', 'examples', 'in-front-of-otelcol.yaml');
const METRIC = 'aibom.deviations';
/** The attributes the snippet counts by, in its order. */
const BY = ['aibom.deviation.rule', 'security_rule.category', 'aibom.deviation.severity', 'aibom.deviation.component.kind', 'aibom.deviation.component.name'];

const otelcolPath = otelcolBin();
requireTool('AIBOM_SENSOR', 'bpf/.output/aibom-sensor');
if (process.getuid?.() !== 0) throw new Error('the count connector test needs root for the eBPF sensor (CI runs as root)');
if (!existsSync(join(APPS, 'node_modules'))) throw new Error('test/apps is not installed: run test/apps/setup.sh (or .ci/install-tools.sh)');

interface MetricsDoc {
  resourceMetrics?: { scopeMetrics?: { metrics?: { name: string; description?: string; sum?: { aggregationTemporality?: number | string; isMonotonic?: boolean; dataPoints?: { attributes?: JsonKeyValue[]; asInt?: string | number }[] } }[] }[] }[];
}

/** The count connector's `aibom.deviations` points in the file exporter's OTLP JSON lines. */
function countedPoints(file: string): { description?: string; temporality?: number | string; monotonic?: boolean; attributes: Record<string, unknown>; value: number }[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).flatMap((line) =>
    ((JSON.parse(line) as MetricsDoc).resourceMetrics ?? []).flatMap((rm) => (rm.scopeMetrics ?? []).flatMap((sm) => (sm.metrics ?? []).filter((m) => m.name === METRIC).flatMap((m) =>
      (m.sum?.dataPoints ?? []).map((p) => ({ description: m.description, temporality: m.sum?.aggregationTemporality, monotonic: m.sum?.isMonotonic, attributes: plainAttributes(p.attributes), value: Number(p.asInt) })))),
    ));
}

/** Counts per attribute set (`rule|family|severity|kind|name`), summed (each point is a delta). */
function tally(items: { attributes: Record<string, unknown>; value: number }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const { attributes, value } of items) {
    const key = BY.map((k) => String(attributes[k])).join('|');
    out[key] = (out[key] ?? 0) + value;
  }
  return out;
}

describe('the count connector snippet behind aibom-collector: deviations counted by rule, family, severity and component', () => {
  let llm: { proc: Proc; ports: number[] };
  let services: { proc: Proc; ports: number[] };
  let otelcol: Otelcol;
  let aibom: Collector;
  let metricsFile: string;
  let peers: ReferencePeers;
  const comm = watchedComm(IN_FRONT);

  beforeAll(async () => {
    llm = await startListening(process.execPath, [join(APPS, 'fake-llm', 'server.mjs'), '--port', '0']);
    services = await startListening(process.execPath, [join(APPS, 'services.mjs')]);
    const dir = mkdtempSync(join(tmpdir(), 'aibom-count-'));
    metricsFile = join(dir, 'metrics.jsonl');
    const [otelGrpc, otelMetrics, aibomGrpc, aibomHttp, admin] = (await freePorts(5)) as [number, number, number, number, number];
    const sinks = join(dir, 'sinks.yaml');
    writeFileSync(sinks, `exporters:
  file/metrics:
    path: ${metricsFile}
  file/traces:
    path: ${join(dir, 'traces.jsonl')}
service:
  pipelines:
    metrics:
      exporters: [debug, file/metrics]
    traces:
      receivers: [otlp]
      exporters: [file/traces]
  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: ${otelMetrics}
`);
    otelcol = await Otelcol.start(otelcolPath, [SNIPPET, sinks], { OTELCOL_OTLP_GRPC_ENDPOINT: `127.0.0.1:${otelGrpc}` }, otelMetrics);
    aibom = await Collector.startWith(IN_FRONT, `http://127.0.0.1:${admin}`, {
      AIBOM_OTLP_GRPC_ENDPOINT: `127.0.0.1:${aibomGrpc}`,
      AIBOM_OTLP_HTTP_ENDPOINT: `127.0.0.1:${aibomHttp}`,
      AIBOM_ADMIN_ENDPOINT: `127.0.0.1:${admin}`,
      AIBOM_DATA_DIR: join(dir, 'aibom-data'),
      OTELCOL_OTLP_ENDPOINT: `127.0.0.1:${otelGrpc}`,
    });
    peers = { llm, services, otlpPort: aibomGrpc };
    await learnAndFreeze(comm, peers, aibom);
  }, 420_000);

  afterAll(async () => {
    await aibom?.stop();
    await otelcol?.stop();
    await llm?.proc.stop();
    await services?.proc.stop();
  });

  test('the prompt injection\'s deviations come out of the Collector as aibom.deviations, one count per record aibom-collector sent', async () => {
    const traceId = await attackRun(comm, peers);
    const expected = async () => tally((await deviationsKept(aibom)).map((e) => ({ attributes: e.attributes, value: 1 })));
    await waitFor('the attack\'s deviations in the history', async () => ((await deviationsKept(aibom)).some((e) => e.traceId === traceId) ? true : undefined), 60_000, 500);
    await provenanceJudged(aibom);
    const canonical = (t: Record<string, number>) => JSON.stringify(Object.entries(t).sort());
    await waitFor('every deviation counted by the Collector', async () => (canonical(tally(countedPoints(metricsFile))) === canonical(await expected()) ? true : undefined), 30_000, 500)
      .catch(() => undefined); // the comparison below says what differs
    const kept = await deviationsKept(aibom);
    const attackRules = kept.filter((e) => e.traceId === traceId).map((e) => BY.map((k) => String(e.attributes[k])).join('|'));
    expect(attackRules.length, 'deviations of the attack trace in the history').toBeGreaterThan(0);

    const points = countedPoints(metricsFile);
    const counted = tally(points);
    expect(counted).toEqual(await expected());
    for (const key of attackRules) expect(Object.keys(counted)).toContain(key);
    for (const p of points) {
      expect(Object.keys(p.attributes).sort()).toEqual([...BY].sort());
      expect({ description: p.description, monotonic: p.monotonic, temporality: p.temporality }).toEqual({
        description: 'aibom-collector deviations, by rule, family, severity and component.', monotonic: true, temporality: 1, // AGGREGATION_TEMPORALITY_DELTA
      });
    }
    expect(await otelcol.metric('otelcol_receiver_accepted_log_records')).toBeGreaterThanOrEqual(kept.length);
    expect(await otelcol.metric('otelcol_receiver_refused_log_records')).toBe(0);
    expect(await aibom.metric('aibom_exporter_dropped_items_total')).toBe(0);
    console.log(`count connector, attack trace ${traceId}: ${METRIC} ${JSON.stringify(counted)}`);
  }, 150_000);
});
