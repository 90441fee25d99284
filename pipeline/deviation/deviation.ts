/**
 * The deviation contract: what every detector (processors/baseline, processors/provenance, the
 * AI-BOM's declared-vs-observed findings) says when behaviour breaks what was learned or declared,
 * and the names it is said with. One place, so a Prometheus rule, a Jaeger tag search, the report
 * and the demo read every detector's output the same way.
 *
 * Names: OpenTelemetry's `security_rule.*` semantic conventions for the rule; product-specific facts
 * under `aibom.deviation.*` and the execution chain under `aibom.chain.*` (both reserved: the OTLP
 * receiver renames them when a client sends them, see receiver/otlp/neutralize.ts).
 */

/** LogRecord.eventName of a deviation. */
export const DEVIATION_EVENT = 'aibom.deviation';
/** Ruleset name on every deviation (`security_rule.ruleset.name`). */
export const RULESET = 'aibom-collector';

export type Severity = 'info' | 'low' | 'medium' | 'high' | 'critical';

/** OTel log severity numbers (INFO, INFO2, WARN, ERROR, FATAL) per deviation severity. */
export const SEVERITY_NUMBER: Readonly<Record<Severity, number>> = { info: 9, low: 10, medium: 13, high: 17, critical: 21 };

/**
 * Rule families, `security_rule.category`: what kind of failure of a static AI-BOM the rule catches.
 * coverage-gap: something new that no profile or declaration knows (tool, MCP tool, component);
 * misuse: an approved tool used in an unusual way (arguments, payload size, values from untrusted content);
 * drift: a known component changed (model, model version, executable hash);
 * execution: a new executable or process; credential-access: a credential or sensitive file touched;
 * data-access: a new file pattern or data source; egress: a new destination (DNS name, address, port).
 */
export type RuleCategory = 'coverage-gap' | 'misuse' | 'drift' | 'execution' | 'credential-access' | 'data-access' | 'egress';

export interface Rule {
  /** Stable id, kebab-case: `new-executable`, `tool-argument-from-untrusted-content`. The alert/search key. */
  id: string;
  /** Human name (`security_rule.name`). */
  name: string;
  category: RuleCategory;
  description: string;
  severity: Severity;
}

/** The component whose baseline (or declaration) was broken: an AI-BOM entity. */
export interface ComponentRef {
  /** AI-BOM entity id (`<kind>:<16 hex>`), when the detector knows it. */
  id: string;
  /** agent | tool | mcp_server | model | endpoint | ... (AI-BOM entity kinds). */
  kind: string;
  name: string;
}

/**
 * The execution chain that led to the deviation, as far as the trace shows it. Every string is
 * redacted and truncated by the writer; content (prompt, arguments) is only there when the agent's
 * own spans carried it (content capture is the agent's choice, not ours).
 */
export interface ExecutionChain {
  /** The user input or prompt that started the trace. */
  prompt?: string;
  /** The LLM call that chose the tool. */
  llm?: { spanId: string; model?: string };
  /** The tool call, with its arguments as the span carried them. */
  tool?: { spanId: string; name: string; arguments?: string };
  /** Files, data sources, knowledge-base collections accessed. */
  data?: string[];
  /** Egress destinations: DNS names, address:port, URLs. */
  destination?: string[];
  /** Identities used: credential files read, service accounts, API-key variable names. */
  identity?: string[];
  /** Executables run. */
  process?: string[];
}

export interface Deviation {
  rule: Rule;
  component: ComponentRef;
  /** The baseline (or declared) fact that was broken, in words: `executables of tool search_kb: /usr/bin/curl`. */
  fact: string;
  /** What was observed instead. */
  observed: string;
  /** The span that caused it (an agent span, or the kernel span that showed it): hex ids. */
  traceId: string;
  spanId: string;
  /** When it happened (the causing span's or event's time), Unix ns. */
  timeUnixNano: bigint;
  chain: ExecutionChain;
  /** For provenance rules: the span whose content introduced the value (same trace). */
  source?: { spanId: string; name: string };
  /**
   * What makes two deviations of one rule and component the same for dedupe, when not the observed
   * value alone: provenance adds the trace id, since each trace steered by content is its own incident.
   */
  dedupeKey?: string;
  /** Extra facts, already redacted: `aibom.deviation.*` names, or OTel names. */
  attributes?: Record<string, string | number | boolean | string[]>;
}
