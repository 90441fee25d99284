import type { Metrics } from '../telemetry/metrics.js';
import type { Deviation } from './deviation.js';

/**
 * `aibom_deviations_total{rule, category, severity, component}`: every emitted deviation of every detector, so
 * Prometheus/Alertmanager (and Grafana) can alert on them. Unlike the collector's own metrics, whose
 * `component` label names a pipeline component, `component` here is the AI component whose baseline was
 * broken, as `<kind>/<name>` (`tool/http_post`): that is what an alert must name. Each series carries
 * the latest deviation's trace_id as an OpenMetrics exemplar. `category` (the rule family) lets one
 * alert rule per family stay right when a detector adds a rule (otel-config/alerting/).
 */
export function countDeviation(metrics: Metrics, d: Deviation): void {
  // The exemplar carries the latest deviation's trace: Prometheus stores it, Grafana links it to the
  // trace. OpenMetrics caps an exemplar's label set at 128 characters; trace_id + span_id are 67.
  metrics
    .exemplarCounter('aibom_deviations_total', 'Deviations emitted, by rule, rule family (security_rule.category), severity and the AI component (kind/name) whose baseline or declaration was broken.', ['rule', 'category', 'severity', 'component'])
    .inc({ rule: d.rule.id, category: d.rule.category, severity: d.rule.severity, component: `${d.component.kind}/${d.component.name}` }, { trace_id: d.traceId, span_id: d.spanId });
}
