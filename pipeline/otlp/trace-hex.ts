import { hexAt } from './id-hex.js';
import { idHex, locateId, spanIds } from './span-view.js';
import type { Span } from './types.js';
import { idWord } from '../id-table.js';

/**
 * The hex of a span's trace id (as `spanIds(span).traceId`), made once per run of spans of one
 * trace: the spans of a trace come together, so the next span's 16 bytes are compared, as four
 * words, with the last trace id's and its string given again. Nothing else of the span is made hex
 * (`spanIds` made its span and parent ids hex too, on every span, for an evidence list that keeps
 * trace ids only).
 */
export class TraceHex {
  private w0 = 0;
  private w1 = 0;
  private w2 = 0;
  private w3 = 0;
  private hex: string | undefined = undefined;

  of(span: Span): string {
    const id = locateId(span, 'traceId');
    // Absent or not 16 bytes (invalid in OTLP): as spanIds spells it, not remembered.
    if (id.length !== 16) return spanIds(span).traceId;
    const { buf, at } = id;
    const w0 = idWord(buf, at);
    const w1 = idWord(buf, at + 4);
    const w2 = idWord(buf, at + 8);
    const w3 = idWord(buf, at + 12);
    if (this.hex !== undefined && w0 === this.w0 && w1 === this.w1 && w2 === this.w2 && w3 === this.w3) return this.hex;
    // A span not received as bytes: its own id, from byte 0.
    const hex = Buffer.isBuffer(buf) ? hexAt(buf, at, 16) : idHex(buf);
    this.w0 = w0;
    this.w1 = w1;
    this.w2 = w2;
    this.w3 = w3;
    this.hex = hex;
    return hex;
  }
}
