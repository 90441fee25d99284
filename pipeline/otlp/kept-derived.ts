import type { KeyValue } from './types.js';

/** What `keptDerived` (span-view.ts) answers when the span holds no derived value that still holds. */
export const NOT_KEPT: unique symbol = Symbol('not kept');

/**
 * The attribute keys a value derived from a span depends on: appending an attribute with one of
 * them invalidates it (span-view.ts `keptDerived`). A frozen appended list found to hold none of
 * them is remembered (weakly, by identity): normalize appends one such list, shared by every span
 * with its values, and the next reader of each span tests the list once instead of each key in it.
 */
export class DependsOn {
  private readonly clean = new WeakSet<readonly KeyValue[]>();

  constructor(private readonly keys: { has(key: string): boolean }) {}

  /** True if an attribute of `list` from index `from` on has one of the keys. */
  touches(list: readonly KeyValue[], from: number): boolean {
    if (from === 0 && this.clean.has(list)) return false;
    for (let i = from; i < list.length; i++) if (this.keys.has(list[i]!.key)) return true;
    // Frozen: its keys cannot change (a list of a span's own is pushed to, and is not remembered).
    if (from === 0 && Object.isFrozen(list)) this.clean.add(list);
    return false;
  }
}
