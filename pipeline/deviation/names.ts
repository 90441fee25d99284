/** Attribute names of deviations (log records and spans). See deviation.ts for what each means. */
export const DEVIATION_ATTR = {
  ruleName: 'security_rule.name',
  ruleCategory: 'security_rule.category',
  ruleUuid: 'security_rule.uuid',
  ruleDescription: 'security_rule.description',
  rulesetName: 'security_rule.ruleset.name',
  ruleVersion: 'security_rule.version',

  rule: 'aibom.deviation.rule',
  severity: 'aibom.deviation.severity',
  componentId: 'aibom.deviation.component.id',
  componentKind: 'aibom.deviation.component.kind',
  componentName: 'aibom.deviation.component.name',
  fact: 'aibom.deviation.fact',
  observed: 'aibom.deviation.observed',
  /** Identical deviations suppressed since the last one emitted (dedupe), plus this one. */
  count: 'aibom.deviation.count',
  sourceSpanId: 'aibom.deviation.source.span_id',
  sourceName: 'aibom.deviation.source.name',

  chainPrompt: 'aibom.chain.prompt',
  chainLlmSpanId: 'aibom.chain.llm.span_id',
  chainLlmModel: 'aibom.chain.llm.model',
  chainToolSpanId: 'aibom.chain.tool.span_id',
  chainToolName: 'aibom.chain.tool.name',
  chainToolArguments: 'aibom.chain.tool.arguments',
  chainData: 'aibom.chain.data',
  chainDestination: 'aibom.chain.destination',
  chainIdentity: 'aibom.chain.identity',
  chainProcess: 'aibom.chain.process',
} as const;
