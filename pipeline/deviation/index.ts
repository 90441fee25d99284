// The deviation contract shared by every detector: types (deviation.ts), attribute names (names.ts),
// the OTLP log record and child span a deviation becomes (writer.ts), and dedupe/rate limiting (limiter.ts).
export { DEVIATION_EVENT, RULESET, SEVERITY_NUMBER, type ComponentRef, type Deviation, type ExecutionChain, type Rule, type RuleCategory, type Severity } from './deviation.js';
export { DEFAULT_LIMITER, DeviationLimiter, type LimiterConfig, type Suppressed, type Verdict } from './limiter.js';
export { countDeviation } from './metrics.js';
export { DEVIATION_ATTR } from './names.js';
export { deviationAttributes, deviationData, deviationRecord, deviationSpan, MAX_LIST, MAX_TEXT, ruleUuid, safeText, type DeviationOrigin } from './writer.js';
