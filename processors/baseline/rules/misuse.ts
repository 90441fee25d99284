import type { Rule } from '../../../pipeline/deviation/index.js';
import type { Fact } from '../facts.js';
import type { Profile } from '../profile.js';
import { list, type Check } from './check.js';

export const TOOL_ARGUMENT_ANOMALY: Rule = {
  id: 'tool-argument-anomaly',
  name: 'Anomalous tool arguments',
  category: 'misuse',
  description: 'An approved tool was called with arguments unlike its baseline: a new key or type, a new value of a low-cardinality argument, or a value far longer or larger than learned.',
  severity: 'high',
};

export const PAYLOAD_SIZE_ANOMALY: Rule = {
  id: 'payload-size-anomaly',
  name: 'Anomalous payload size',
  category: 'misuse',
  description: 'An approved tool sent a request body far larger than its baseline to a known destination (median/MAD and largest learned size).',
  severity: 'high',
};

export interface MisuseSettings {
  lowCardinalityMax: number;
  sizeTolerance: number;
  madFactor: number;
}

/** Values longer than this are never remembered as low-cardinality values (text, not a choice). */
const MAX_VALUE_LENGTH = 64;

/** What one argument looks like, for learning and checking. */
function shapeOf(v: unknown): { type: string; length: number; value?: string; num?: number } {
  if (v === null) return { type: 'null', length: 0, value: 'null' };
  if (Array.isArray(v)) return { type: 'array', length: JSON.stringify(v).length };
  switch (typeof v) {
    case 'string':
      return { type: 'string', length: v.length, ...(v.length <= MAX_VALUE_LENGTH ? { value: v } : {}) };
    case 'number':
      return { type: 'number', length: String(v).length, value: String(v), num: v };
    case 'boolean':
      return { type: 'boolean', length: String(v).length, value: String(v) };
    default:
      return { type: 'object', length: JSON.stringify(v)?.length ?? 0 };
  }
}

/**
 * Few distinct values, each seen again and again (a collection name, a priority): a choice among
 * known values. Few calls with all-different values (free text seen a handful of times) is not.
 */
function lowCardinality(a: { count: number; values: Set<string> | null }): boolean {
  return a.values !== null && a.count >= 2 * a.values.size;
}

export function checkMisuse(p: Profile, f: Fact, s: MisuseSettings): Check[] {
  if (f.type === 'payload') {
    const stats = p.payloads.get(f.destination);
    if (!stats || stats.count === 0) return [];
    const limit = stats.threshold(s.sizeTolerance, s.madFactor);
    if (f.bytes <= limit) return [];
    const { median, mad, max } = stats.summary();
    return [
      {
        rule: PAYLOAD_SIZE_ANOMALY,
        fact: `request bodies to ${f.destination}: median ${median} B, MAD ${mad} B, largest ${max} B (limit ${Math.round(limit)} B)`,
        observed: `${f.bytes} B to ${f.destination}`,
        attributes: { 'http.request.body.size': f.bytes, 'aibom.deviation.limit': Math.round(limit) },
      },
    ];
  }
  if (f.type !== 'arguments' || p.args.size === 0) return [];
  const found: string[] = [];
  const learned: string[] = [];
  for (const [key, v] of f.args) {
    const a = p.argShape(key);
    const x = shapeOf(v);
    if (!a) {
      found.push(`new argument ${key}`);
      learned.push(`arguments: ${list(p.args.keys())}`);
      continue;
    }
    if (!a.types.has(x.type)) {
      found.push(`${key} is ${x.type}`);
      learned.push(`${key}: ${list(a.types)}`);
    } else if (a.values && x.value !== undefined && !a.values.has(x.value) && lowCardinality(a)) {
      found.push(`${key}=${x.value}`);
      learned.push(`${key}: ${list(a.values)}`);
    } else if (x.num !== undefined && a.range && !a.values && x.num > a.range.max * s.sizeTolerance) {
      found.push(`${key}=${x.num}`);
      learned.push(`${key}: ${a.range.min}..${a.range.max}`);
    } else {
      const limit = a.lengths.threshold(s.sizeTolerance, s.madFactor);
      if (x.length > limit) {
        found.push(`${key} is ${x.length} characters`);
        learned.push(`${key}: length median ${a.lengths.summary().median}, largest ${a.lengths.summary().max} (limit ${Math.round(limit)})`);
      }
    }
  }
  return found.length === 0 ? [] : [{ rule: TOOL_ARGUMENT_ANOMALY, fact: learned.join('; '), observed: found.join('; ') }];
}

export function learnMisuse(p: Profile, f: Fact, s: MisuseSettings): void {
  if (f.type === 'payload') p.learnPayload(f.destination, f.bytes);
  else if (f.type === 'arguments') {
    for (const [key, v] of f.args) {
      const x = shapeOf(v);
      p.learnArgument(key, x.type, x.length, x.value, x.num, s.lowCardinalityMax);
    }
  }
}
