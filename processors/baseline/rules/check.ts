import type { Rule } from '../../../pipeline/deviation/index.js';

/** What a rule found: the baseline fact in words and the observed value. */
export interface Check {
  rule: Rule;
  fact: string;
  observed: string;
  attributes?: Record<string, string | number | boolean | string[]>;
}

/** A profile list in words for `aibom.deviation.fact`, bounded (the writer truncates too). */
export function list(values: Iterable<string>, max = 8): string {
  const all = [...values];
  if (all.length === 0) return '(none)';
  return all.length > max ? `${all.slice(0, max).join(', ')} … ${all.length - max} more` : all.join(', ');
}
