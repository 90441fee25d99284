import type { Rule } from '../../../pipeline/deviation/index.js';
import type { Fact } from '../facts.js';
import type { Profile } from '../profile.js';
import { list, type Check } from './check.js';

export const NEW_FILE: Rule = {
  id: 'new-file',
  name: 'New file pattern',
  category: 'data-access',
  description: 'A component opened a file outside every path and collapsed directory of its baseline.',
  severity: 'medium',
};

export const CREDENTIAL_ACCESS: Rule = {
  id: 'credential-access',
  name: 'Credential or sensitive file access',
  category: 'credential-access',
  description: 'A component opened a credential or sensitive file its baseline never opened.',
  severity: 'critical',
};

export function checkFiles(p: Profile, f: Fact): Check[] {
  if (f.type === 'file' && !p.files.has(f.value)) return [{ rule: NEW_FILE, fact: `files: ${list(p.files.toJSON())}`, observed: f.value }];
  if (f.type === 'credential' && !p.lists.credentials.has(f.value)) return [{ rule: CREDENTIAL_ACCESS, fact: `credentials: ${list(p.lists.credentials)}`, observed: f.value }];
  return [];
}

export function learnFiles(p: Profile, f: Fact): void {
  if (f.type === 'file') p.learnFile(f.value);
  else if (f.type === 'credential') p.learnValue('credentials', f.value);
}
