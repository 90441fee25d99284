import type { Metrics } from '../telemetry/metrics.js';
import type { Deviation } from './deviation.js';

/**
 * `aibom_deviations_total{rule, severity, component}`: every emitted deviation of every detector, so
 * Prometheus/Alertmanager (and Grafana) can alert on them. Unlike the collector's own metrics, whose
 * `component` label names a pipeline component, `component` here is the AI component whose baseline was
 * broken, as `<kind>/<name>` (`tool/http_post`): that is what an alert must name.
 */
export function countDeviation(metrics: Metrics, d: Deviation): void {
  metrics
    .counter('aibom_deviations_total', 'Deviations emitted, by rule, severity and the AI component (kind/name) whose baseline or declaration was broken.', ['rule', 'severity', 'component'])
    .inc({ rule: d.rule.id, severity: d.rule.severity, component: `${d.component.kind}/${d.component.name}` });
}
