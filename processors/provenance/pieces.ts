import { createHash } from 'node:crypto';
import type { ContentIndex } from './content-index.js';
import type { InstructionMatch } from './instructions.js';
import type { Candidate } from './values.js';

/**
 * One piece of content (a tool call's arguments, a tool result) as read once: what was read from it
 * is a function of its text alone, so every span and every open trace that carries the same text
 * shares it, never changed after (a LangChain tool span and the chain span around it carry the same
 * arguments and result; an agent's runs read the same files, documents and tool results again).
 */
export interface Piece {
  /** Complete (never cut by a budget): only such an index is shared. */
  index: ContentIndex;
  candidates?: Candidate[];
  /** Instruction-shaped phrasing, or null when there is none; undefined until looked for. */
  instructions?: InstructionMatch | null;
}

/** `String.prototype.isWellFormed` (Node 20; the ES2022 library the project compiles against lacks its type). */
type WellFormed = string & { isWellFormed(): boolean };

/**
 * The key of a piece: SHA-256 of its text. A cryptographic digest, not the 53-bit hash of the index:
 * content is untrusted, and a text crafted to collide with another would be given the other's index
 * (its values unseen). UTF-8 is one-to-one for well-formed text only (lone surrogates all become
 * U+FFFD), so other text is digested as its UTF-16 code units, under a key of another form.
 * ~1.5 ns a character (SHA extensions), against ~37 for indexing it.
 */
export function pieceKey(text: string): string {
  if ((text as WellFormed).isWellFormed()) return createHash('sha256').update(text, 'utf8').digest('base64');
  return `u${createHash('sha256').update(text, 'utf16le').digest('base64')}`;
}

/**
 * The pieces held by open traces, shared between them (one table per processor). A piece stays while
 * an open trace holds it and is dropped with the last one (as a trace's hashes are dropped when it is
 * evaluated), so the table adds no memory of its own past the keys: every piece in it is counted in
 * the entries (`max_entries_per_trace`, `max_total_entries`) of each trace that holds it, and a trace
 * holds at most one per tool call and source (`max_items_per_trace`).
 */
export class SharedPieces {
  private readonly held = new Map<string, { piece: Piece; refs: number }>();

  get size(): number {
    return this.held.size;
  }

  get(key: string): Piece | undefined {
    return this.held.get(key)?.piece;
  }

  /** One more trace holds `piece` under `key` (each trace holds a key once). */
  hold(key: string, piece: Piece): void {
    const h = this.held.get(key);
    if (h) h.refs++;
    else this.held.set(key, { piece, refs: 1 });
  }

  /** A trace that held `keys` is gone. */
  release(keys: Iterable<string>): void {
    for (const key of keys) {
      const h = this.held.get(key);
      if (h && --h.refs === 0) this.held.delete(key);
    }
  }
}
