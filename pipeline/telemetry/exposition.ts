import type client from 'prom-client';

/** The two text formats /metrics speaks: Prometheus' classic text, and OpenMetrics (which carries exemplars). */
export const CLASSIC_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/** True when the scraper's Accept header asks for OpenMetrics (Prometheus does by default). */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  return /application\/openmetrics-text/i.test(accept ?? '');
}

interface Sample {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
  exemplar?: { labelSet: Record<string, string>; value: number | null; timestamp?: number } | null;
}

/**
 * Renders the registry ourselves rather than with prom-client's `registry.metrics()`: prom-client
 * picks one format per registry and renames counters in place when it renders OpenMetrics, so one
 * registry could not answer both kinds of scraper. Same output as prom-client otherwise.
 */
export async function renderExposition(registry: client.Registry, openMetrics: boolean): Promise<string> {
  const families: string[] = [];
  for (const metric of registry.getMetricsAsArray()) {
    const m = await (metric as unknown as { get(): Promise<{ name: string; help: string; type: string; values: Sample[] }> }).get();
    // OpenMetrics names a counter family without `_total` and its sample with it.
    const family = openMetrics && m.type === 'counter' ? m.name.replace(/_total$/, '') : m.name;
    const lines = [`# HELP ${family} ${escapeHelp(m.help)}`, `# TYPE ${family} ${m.type}`];
    for (const s of m.values) {
      const name = s.metricName ?? (openMetrics && m.type === 'counter' ? `${family}_total` : m.name);
      let line = `${name}${labelSet(s.labels)} ${numberText(s.value)}`;
      if (openMetrics && s.exemplar?.labelSet && Object.keys(s.exemplar.labelSet).length > 0) {
        line += ` # ${labelSet(s.exemplar.labelSet)} ${numberText(s.exemplar.value ?? 1)}${s.exemplar.timestamp !== undefined ? ` ${s.exemplar.timestamp}` : ''}`;
      }
      lines.push(line);
    }
    families.push(lines.join('\n'));
  }
  return openMetrics ? `${families.join('\n')}\n# EOF\n` : `${families.join('\n\n')}\n`;
}

function labelSet(labels: Record<string, string | number>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${String(v).replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`);
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
}

function escapeHelp(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function numberText(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
