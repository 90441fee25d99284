// One module per rule family; `check` asks every family, `learn` lets every family learn.
import type { Rule } from '../../../pipeline/deviation/index.js';
import type { Fact } from '../facts.js';
import type { Profile } from '../profile.js';
import type { Check } from './check.js';
import { DATA_SHAPED_DNS, NEW_EGRESS, checkDnsShape, checkEgress, learnEgress } from './egress.js';
import { NEW_EXECUTABLE, checkExecution, learnExecution } from './execution.js';
import { CREDENTIAL_ACCESS, NEW_FILE, checkFiles, learnFiles } from './files.js';
import { MODEL_VERSION_DRIFT, NEW_MCP_TOOL, NEW_MODEL, NEW_TOOL, checkInventory, learnInventory } from './inventory.js';
import { PAYLOAD_SIZE_ANOMALY, TOOL_ARGUMENT_ANOMALY, checkMisuse, learnMisuse, type MisuseSettings } from './misuse.js';

export type { Check } from './check.js';
export { dataShapedLabel } from './egress.js';

export const RULES: readonly Rule[] = [NEW_EXECUTABLE, NEW_FILE, CREDENTIAL_ACCESS, NEW_EGRESS, DATA_SHAPED_DNS, NEW_TOOL, NEW_MCP_TOOL, NEW_MODEL, MODEL_VERSION_DRIFT, TOOL_ARGUMENT_ANOMALY, PAYLOAD_SIZE_ANOMALY];

export interface RuleSettings extends MisuseSettings {
  dnsLabelMin: number;
}

/** The rule a fact type is judged by, for the "quiet while learning" metric. */
export const RULE_OF_FACT: Readonly<Record<Fact['type'], Rule>> = {
  executable: NEW_EXECUTABLE,
  file: NEW_FILE,
  credential: CREDENTIAL_ACCESS,
  egress: NEW_EGRESS,
  tool: NEW_TOOL,
  mcp_tool: NEW_MCP_TOOL,
  model: NEW_MODEL,
  model_version: MODEL_VERSION_DRIFT,
  arguments: TOOL_ARGUMENT_ANOMALY,
  payload: PAYLOAD_SIZE_ANOMALY,
};

type Family = { check(p: Profile, f: Fact, s: RuleSettings): Check[]; learn(p: Profile, f: Fact, s: RuleSettings): void };
const execution: Family = { check: checkExecution, learn: learnExecution };
const files: Family = { check: checkFiles, learn: learnFiles };
const egress: Family = { check: checkEgress, learn: learnEgress };
const inventory: Family = { check: checkInventory, learn: learnInventory };
const misuse: Family = { check: checkMisuse, learn: learnMisuse };

/** The family that judges and learns each fact type: one call per observation, not one per family. */
const FAMILY: Readonly<Record<Fact['type'], Family>> = {
  executable: execution,
  file: files,
  credential: files,
  egress,
  tool: inventory,
  mcp_tool: inventory,
  model: inventory,
  model_version: inventory,
  arguments: misuse,
  payload: misuse,
};

/** Rules that compare with a profile (quiet while it learns or, for kernel facts, while it is partial). */
export function checkAgainstProfile(p: Profile, f: Fact, s: RuleSettings): Check[] {
  return FAMILY[f.type].check(p, f, s);
}

/** Rules that need no profile. */
export function checkWithoutProfile(p: Profile | undefined, f: Fact, s: RuleSettings): Check[] {
  return checkDnsShape(p, f, s.dnsLabelMin);
}

export function learn(p: Profile, f: Fact, s: RuleSettings): void {
  FAMILY[f.type].learn(p, f, s);
}
