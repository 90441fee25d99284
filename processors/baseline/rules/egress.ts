import type { Rule } from '../../../pipeline/deviation/index.js';
import type { Fact } from '../facts.js';
import type { Profile } from '../profile.js';
import { list, type Check } from './check.js';

export const NEW_EGRESS: Rule = {
  id: 'new-egress',
  name: 'New egress destination',
  category: 'egress',
  description: 'A component resolved a DNS name or connected to an address and port its baseline never reached.',
  severity: 'high',
};

export const DATA_SHAPED_DNS: Rule = {
  id: 'data-shaped-dns',
  name: 'Data-shaped DNS name',
  category: 'egress',
  description: 'A DNS name carries a long random-looking label: data leaving in the name itself (DNS tunnelling, exfiltration).',
  severity: 'high',
};

/** Bits per character of a label's characters: random base32/hex/base64 sits near 4-6, words near 2-3.5. */
function entropy(s: string): number {
  const n = new Map<string, number>();
  for (const c of s) n.set(c, (n.get(c) ?? 0) + 1);
  let h = 0;
  for (const k of n.values()) h -= (k / s.length) * Math.log2(k / s.length);
  return h;
}

/** A label long enough, random-looking (entropy) and mixing digits and letters, as encoders produce. */
export function dataShapedLabel(name: string, minLength: number): string | undefined {
  return name.split('.').find((l) => l.length >= minLength && /\d/.test(l) && /[a-z]/i.test(l) && entropy(l.toLowerCase()) >= 3.5);
}

export function checkEgress(p: Profile, f: Fact): Check[] {
  if (f.type !== 'egress' || p.lists.egress.has(f.value)) return [];
  return [{ rule: NEW_EGRESS, fact: `egress: ${list(p.lists.egress)}`, observed: f.value }];
}

/** Needs no profile: a data-shaped name is suspect whatever was learned (unless learned itself). */
export function checkDnsShape(p: Profile | undefined, f: Fact, minLength: number): Check[] {
  if (f.type !== 'egress' || !f.dns || p?.lists.egress.has(f.value)) return [];
  const name = f.value.slice('dns:'.length);
  const label = dataShapedLabel(name, minLength);
  return label ? [{ rule: DATA_SHAPED_DNS, fact: `DNS labels under ${minLength} characters or not random`, observed: name, attributes: { 'aibom.deviation.dns.label_length': label.length } }] : [];
}

export function learnEgress(p: Profile, f: Fact): void {
  if (f.type === 'egress') p.learnValue('egress', f.value);
}
