import { describe, expect, test } from 'vitest';
import { AdminRoutes } from '../admin-routes.js';
import { countDeviation } from '../deviation/metrics.js';
import type { Deviation } from '../deviation/deviation.js';
import { AdminServer } from '../service/admin-server.js';
import { silentLogger } from './logger.js';
import { Metrics } from './metrics.js';

const deviation = (traceId: string): Deviation => ({
  rule: { id: 'new-executable', name: 'New executable', category: 'execution', description: 'd', severity: 'high' },
  component: { id: 'tool:0123456789abcdef', kind: 'tool', name: 'run_diagnostics' },
  fact: 'executables: /usr/bin/node',
  observed: '/usr/bin/sh',
  traceId,
  spanId: '00f067aa0ba902b7',
  timeUnixNano: 1n,
  chain: {},
});

function filled(): Metrics {
  const m = new Metrics();
  m.receiverAccepted.inc({ component: 'otlp', signal: 'traces', transport: 'grpc' }, 3);
  m.exporterQueueSize.set({ component: 'otlp', signal: 'traces' }, 2);
  m.histogram('aibom_test_latency_seconds', 'Test latency.', ['component'], [0.1, 1]).observe({ component: 'x' }, 0.5);
  countDeviation(m, deviation('4bf92f3577b34da6a3ce929d0e0e4736'));
  countDeviation(m, deviation('5bf92f3577b34da6a3ce929d0e0e4736'));
  return m;
}

describe('/metrics exposition', () => {
  test('OpenMetrics: counters named without _total in TYPE, the latest deviation trace as exemplar, # EOF', async () => {
    const { contentType, body } = await filled().render(true);
    expect(contentType).toMatch(/^application\/openmetrics-text; version=1\.0\.0/);
    expect(body).toContain('# TYPE aibom_deviations counter\n');
    expect(body).toMatch(/^aibom_deviations_total\{rule="new-executable",category="execution",severity="high",component="tool\/run_diagnostics"\} 2 # \{trace_id="5bf92f3577b34da6a3ce929d0e0e4736",span_id="00f067aa0ba902b7"\} 1 \d+(\.\d+)?$/m);
    expect(body).toContain('aibom_receiver_accepted_items_total{component="otlp",signal="traces",transport="grpc"} 3\n');
    expect(body).toContain('aibom_test_latency_seconds_bucket{le="1",component="x"} 1\n');
    expect(body.endsWith('\n# EOF\n')).toBe(true);
  });

  test('classic text after an OpenMetrics render: every counter keeps its _total name, no exemplar', async () => {
    const m = filled();
    await m.render(true);
    const { contentType, body } = await m.render(false);
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(body).toContain('# TYPE aibom_deviations_total counter\n');
    expect(body).toContain('aibom_deviations_total{rule="new-executable",category="execution",severity="high",component="tool/run_diagnostics"} 2\n');
    expect(body).toContain('# TYPE aibom_receiver_accepted_items_total counter\n');
    expect(body).toContain('aibom_exporter_queue_items{component="otlp",signal="traces"} 2\n');
    expect(body).not.toContain('trace_id');
    expect(body).not.toContain('# EOF');
  });

  test('the admin listener answers OpenMetrics to a scraper that asks for it, classic text otherwise', async () => {
    const server = new AdminServer('127.0.0.1:0', filled(), () => true, silentLogger(), new AdminRoutes());
    await server.start();
    try {
      const om = await fetch(`http://${server.address}/metrics`, { headers: { accept: 'application/openmetrics-text;version=1.0.0;q=0.6,text/plain;version=0.0.4;q=0.3,*/*;q=0.1' } });
      expect(om.headers.get('content-type')).toMatch(/^application\/openmetrics-text/);
      expect(await om.text()).toContain('# {trace_id="5bf92f3577b34da6a3ce929d0e0e4736"');
      const plain = await fetch(`http://${server.address}/metrics`);
      expect(plain.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(await plain.text()).toContain('aibom_deviations_total{');
    } finally {
      await server.shutdown();
    }
  });
});
