import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ATTACK, freePort, freeze, normalRuns, runAgent, settled, start, startCollector, startPeers, stopAll, waitFor, type Collector, type Peers } from '../../demo/reference-run.js';
import { requireTool, ROOT } from '../support/tools.js';

/**
 * Alerting from an existing stack, for real: the rules in otel-config/alerting/ pass promtool's tests;
 * a real Prometheus scrapes the collector (embedded default, real eBPF sensor, the reference agent),
 * evaluates those rules and a real Alertmanager delivers the alert to a webhook this test runs. The
 * prompt-injection run fires it, and the payload names the rule and the component.
 * Scrape and evaluation every 1 s and Alertmanager's group_wait 1 s, so the latency measured is the
 * pipeline's, not the default intervals' (15 s scrape, 1 m evaluation, 30 s group_wait in production).
 */
const promtool = requireTool('PROMTOOL_BIN', '.tools/bin/promtool');
const prometheus = requireTool('PROMETHEUS_BIN', '.tools/bin/prometheus');
const alertmanager = requireTool('ALERTMANAGER_BIN', '.tools/bin/alertmanager');
const amtool = requireTool('AMTOOL_BIN', '.tools/bin/amtool');
requireTool('AIBOM_SENSOR', 'bpf/.output/aibom-sensor');
if (process.getuid?.() !== 0) throw new Error('the alerting end-to-end test needs root for the eBPF sensor (CI runs as root)');
const ALERTING = join(ROOT, 'otel-config', 'alerting');
const LEARN_RUNS = 12;

test('promtool: the rules are valid and pass their unit tests (one alert per rule family); amtool: the route example is valid', () => {
  const check = spawnSync(promtool, ['check', 'rules', join(ALERTING, 'prometheus-rules.yaml')], { encoding: 'utf8' });
  expect(check.status, check.stdout + check.stderr).toBe(0);
  expect(check.stdout).toContain('SUCCESS: 7 rules found');
  const unit = spawnSync(promtool, ['test', 'rules', 'prometheus-rules.test.yaml'], { cwd: ALERTING, encoding: 'utf8' });
  expect(unit.status, unit.stdout + unit.stderr).toBe(0);
  const am = spawnSync(amtool, ['check-config', join(ALERTING, 'alertmanager.yaml')], { encoding: 'utf8' });
  expect(am.status, am.stdout + am.stderr).toBe(0);
});

interface Alert {
  status: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

describe('Prometheus + Alertmanager on the reference attack (embedded default)', () => {
  let c: Collector;
  let peers: Peers;
  let promUrl = '';
  const received: { atMs: number; alerts: Alert[] }[] = [];
  let hook: http.Server;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aibom-alerting-'));
    hook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push({ atMs: Date.now(), alerts: (JSON.parse(body) as { alerts: Alert[] }).alerts });
        res.writeHead(200).end();
      });
    });
    const hookPort = await freePort();
    await new Promise<void>((resolve) => hook.listen(hookPort, '127.0.0.1', resolve));

    c = await startCollector(join(dir, 'data'));
    peers = await startPeers();

    const amPort = await freePort();
    writeFileSync(join(dir, 'alertmanager.yaml'), `route:
  receiver: test-webhook
  group_by: [alertname, rule, component]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: test-webhook
    webhook_configs:
      - url: http://127.0.0.1:${hookPort}/alerts
        send_resolved: false
`);
    const am = start(alertmanager, [`--config.file=${join(dir, 'alertmanager.yaml')}`, `--storage.path=${join(dir, 'am')}`, `--web.listen-address=127.0.0.1:${amPort}`, '--cluster.listen-address=']);
    await waitFor('alertmanager', async () => ((await fetch(`http://127.0.0.1:${amPort}/-/ready`).catch(() => undefined))?.ok ? true : undefined), 30_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${am.out.slice(-2000)}`);
    });

    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    writeFileSync(join(dir, 'prometheus.yaml'), `global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - ${join(ALERTING, 'prometheus-rules.yaml')}
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:${amPort}']
scrape_configs:
  - job_name: aibom-collector
    static_configs:
      - targets: ['${c.adminUrl.replace('http://', '')}']
`);
    const prom = start(prometheus, [`--config.file=${join(dir, 'prometheus.yaml')}`, `--storage.tsdb.path=${join(dir, 'prom')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--enable-feature=exemplar-storage']);
    await waitFor('prometheus', async () => ((await fetch(`${promUrl}/-/ready`).catch(() => undefined))?.ok ? true : undefined), 60_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${prom.out.slice(-2000)}`);
    });
  }, 180_000);

  afterAll(async () => {
    await stopAll();
    hook?.close();
  });

  test('the prompt-injection run fires the alert: the webhook payload names the rule and the component; the exemplar is the attack trace', async () => {
    const learned = await runAgent(peers, c, normalRuns(LEARN_RUNS));
    expect(learned.every((r) => r.ok), JSON.stringify(learned)).toBe(true);
    await settled(c);
    expect((await freeze(c)).length).toBeGreaterThan(0);
    // Whatever the learning runs raised has been delivered before the attack starts.
    await new Promise((r) => setTimeout(r, 4000));
    const before = received.length;

    const t0 = Date.now();
    const [attack] = await runAgent(peers, c, [ATTACK]);
    const agentDone = Date.now();
    expect(attack!.ok, attack!.error).toBe(true);

    const expected = [['tool-argument-anomaly', 'tool/search_kb'], ['payload-size-anomaly', 'tool/http_post'], ['new-file', 'mcp_server/filesystem']];
    const hit = await waitFor('an attack alert at the webhook', () => {
      for (const r of received.slice(before)) {
        const a = r.alerts.find((x) => x.status === 'firing' && expected.some(([rule, comp]) => x.labels.rule === rule && x.labels.component === comp));
        if (a) return { a, atMs: r.atMs };
      }
      return undefined;
    }, 90_000, 100).catch((e: Error) => {
      throw new Error(`${e.message}\nreceived: ${JSON.stringify(received.slice(before).map((r) => r.alerts.map((a) => a.labels)))}\n${c.proc.out.slice(-2000)}`);
    });
    expect(hit.a.labels.alertname).toMatch(/^AIBOM(Misuse|DataAccess)$/);
    expect(hit.a.labels.family).toMatch(/^(misuse|data-access)$/);
    expect(hit.a.annotations.summary).toBe(`${hit.a.labels.rule} on ${hit.a.labels.component} (${hit.a.labels.severity})`);
    expect(hit.a.annotations.traceql).toBe(`{ span.aibom.deviation.rule = "${hit.a.labels.rule}" }`);

    // Prometheus kept the exemplar: the trace id of the attack, on the alerting series.
    const ex = await waitFor('the exemplar', async () => {
      const q = encodeURIComponent(`aibom_deviations_total{rule="${hit.a.labels.rule}"}`);
      const res = (await (await fetch(`${promUrl}/api/v1/query_exemplars?query=${q}&start=${(t0 - 60_000) / 1000}&end=${Date.now() / 1000 + 60}`)).json()) as { data: { exemplars: { labels: Record<string, string> }[] }[] };
      const all = res.data.flatMap((s) => s.exemplars.map((e) => e.labels.trace_id));
      return all.includes(attack!.traceId) ? all : undefined;
    }, 30_000, 500);
    expect(ex).toContain(attack!.traceId);

    const line = `alert latency: attack start -> webhook ${hit.atMs - t0} ms; agent run end -> webhook ${hit.atMs - agentDone} ms (scrape 1 s, evaluation 1 s, group_wait 1 s); alert ${hit.a.labels.alertname} ${hit.a.labels.rule} on ${hit.a.labels.component}`;
    console.log(line);
    writeFileSync(join(ROOT, 'test-results', 'alert-latency.txt'), `${line}\n`);
    expect(readFileSync(join(ROOT, 'test-results', 'alert-latency.txt'), 'utf8')).toContain('webhook');
  }, 600_000);
});
