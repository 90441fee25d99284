import type { KeyValue } from './types.js';

/**
 * Appended attributes that cannot change, so what they encode to can be kept: normalize appends the
 * same frozen list of frozen KeyValues to every span it tags (one list per distinct set of values),
 * and the encoders (encoder.ts, json-writer.ts) write each such KeyValue or list once, then copy it.
 */

/** Frozen all the way down: a frozen KeyValue whose value is frozen and holds no object (a Long, a list). */
export function unchangeable(kv: KeyValue): boolean {
  if (!Object.isFrozen(kv)) return false;
  const v = kv.value;
  if (v === undefined || v === null) return true;
  return Object.isFrozen(v) && typeof v.intValue !== 'object' && v.arrayValue == null && v.kvlistValue == null && v.bytesValue == null;
}

/** A frozen list of KeyValues each frozen all the way down. */
export function unchangeableList(list: readonly KeyValue[]): boolean {
  return Object.isFrozen(list) && list.every(unchangeable);
}
