import type { Rule } from '../../../pipeline/deviation/index.js';
import type { Fact } from '../facts.js';
import type { Profile } from '../profile.js';
import { list, type Check } from './check.js';

export const NEW_EXECUTABLE: Rule = {
  id: 'new-executable',
  name: 'New executable',
  category: 'execution',
  description: 'A component ran an executable its baseline never ran (a tool spawning a shell, a dropped binary).',
  severity: 'high',
};

export function checkExecution(p: Profile, f: Fact): Check[] {
  if (f.type !== 'executable' || p.lists.executables.has(f.value)) return [];
  return [{ rule: NEW_EXECUTABLE, fact: `executables: ${list(p.lists.executables)}`, observed: f.value }];
}

export function learnExecution(p: Profile, f: Fact): void {
  if (f.type === 'executable') p.learnValue('executables', f.value);
}
