import type { Rule } from '../../../pipeline/deviation/index.js';
import type { Fact } from '../facts.js';
import type { ListFact, Profile } from '../profile.js';
import { list, type Check } from './check.js';

export const NEW_TOOL: Rule = {
  id: 'new-tool',
  name: 'New tool',
  category: 'coverage-gap',
  description: 'An agent called a tool its baseline never called: a capability no profile (and maybe no declaration) covers.',
  severity: 'medium',
};

export const NEW_MCP_TOOL: Rule = {
  id: 'new-mcp-tool',
  name: 'New MCP tool',
  category: 'coverage-gap',
  description: 'An MCP server did the work of a tool its baseline never saw it serve.',
  severity: 'medium',
};

export const NEW_MODEL: Rule = {
  id: 'new-model',
  name: 'New model',
  category: 'drift',
  description: 'An agent called a model its baseline never called.',
  severity: 'medium',
};

export const MODEL_VERSION_DRIFT: Rule = {
  id: 'model-version-drift',
  name: 'Model version drift',
  category: 'drift',
  description: 'A model endpoint answered with a model version its baseline never saw.',
  severity: 'medium',
};

const BY_FACT: Partial<Record<Fact['type'], { list: ListFact; rule: Rule }>> = {
  tool: { list: 'tools', rule: NEW_TOOL },
  mcp_tool: { list: 'mcpTools', rule: NEW_MCP_TOOL },
  model: { list: 'models', rule: NEW_MODEL },
  model_version: { list: 'modelVersions', rule: MODEL_VERSION_DRIFT },
};

export function checkInventory(p: Profile, f: Fact): Check[] {
  const by = BY_FACT[f.type];
  if (!by || !('value' in f) || p.lists[by.list].has(f.value)) return [];
  return [{ rule: by.rule, fact: `${by.list}: ${list(p.lists[by.list])}`, observed: f.value }];
}

export function learnInventory(p: Profile, f: Fact): void {
  const by = BY_FACT[f.type];
  if (by && 'value' in f) p.learnValue(by.list, f.value);
}
