import type { ComponentRef, Rule } from '../../pipeline/deviation/index.js';
import { entityId } from '../aibom/entity.js';

/** The rules provenance speaks in (`security_rule.*` on every deviation, see pipeline/deviation). */

export const ARGUMENT_RULE: Rule = {
  id: 'tool-argument-from-untrusted-content',
  name: 'Tool argument from untrusted content',
  category: 'misuse',
  description:
    "A security-relevant value in a tool call's arguments (account, IBAN, e-mail address, URL or host, file path, command, recipient, amount) first appeared in a tool result or retrieved document of the same trace, not in the user's request or the system prompt.",
  severity: 'high',
};

export const KERNEL_RULE: Rule = {
  id: 'tool-activity-from-untrusted-content',
  name: 'Tool activity from untrusted content',
  category: 'misuse',
  description:
    "What the kernel saw under a tool call (a DNS name or address it reached, a file it opened, a command it ran) names a value that first appeared in a tool result or retrieved document of the same trace, not in the user's request or the system prompt.",
  severity: 'high',
};

export const INSTRUCTION_RULE: Rule = {
  id: 'instruction-in-tool-result',
  name: 'Instruction-shaped text in a tool result',
  category: 'misuse',
  description:
    'A tool result or retrieved document holds text addressed to the assistant (ignore your instructions, call this tool, do not tell the user). A weak signal on its own; it explains a provenance deviation from the same span.',
  severity: 'low',
};

/** The tool as an AI-BOM entity, with the id processors/aibom gives it. */
export function toolComponent(name: string): ComponentRef {
  return { id: entityId('tool', { 'gen_ai.tool.name': name }), kind: 'tool', name };
}
