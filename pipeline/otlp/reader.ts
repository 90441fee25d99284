import protobuf from 'protobufjs';

/**
 * A protobufjs reader that returns one shared string for repeated short strings. OTLP repeats the
 * same attribute keys and many values ("gen_ai.operation.name", "chat", "openai") in every span;
 * protobufjs makes a new string for each, and because decoded spans wait in the batch processor
 * they survive young-generation GC and get copied and promoted. A small direct-mapped cache keyed
 * by the bytes (FNV-1a) hands back the string made last time for the same bytes. Same bytes give
 * the same string value, so decoding is unchanged; the cache only changes which copy is returned.
 */
const MAX_LEN = 32;
const SLOTS = 4096; // power of two
const strings: (string | undefined)[] = new Array<string | undefined>(SLOTS).fill(undefined);
const lengths = new Uint8Array(SLOTS);
const bytes = new Uint8Array(SLOTS * MAX_LEN);

/** Node's Buffer has utf8Slice (protobufjs uses it too); @types/node does not declare it. */
type NodeBuffer = Buffer & { utf8Slice(start: number, end: number): string };

const BufferReader = protobuf.BufferReader as unknown as new (buf: Buffer) => protobuf.Reader;

export class InterningReader extends BufferReader {
  constructor(buf: Buffer) {
    super(buf);
  }

  /** As protobufjs's BufferReader.string (including its clamping at the end of the buffer). */
  override string(): string {
    const len = this.uint32();
    const start = this.pos;
    const end = Math.min(start + len, this.len);
    this.pos = end;
    return internedString(this.buf as Buffer, start, end);
  }
}

/**
 * The UTF-8 string `buf[start, end)`, the same string object as last time for the same short bytes
 * (what `InterningReader.string` returns; the span views read attribute keys and values with it).
 */
export function internedString(buf: Buffer, start: number, end: number): string {
  const n = end - start;
  if (n === 0) return '';
  if (n > MAX_LEN) return (buf as NodeBuffer).utf8Slice(start, end);
  // FNV-1a over 4-byte words (the tail byte by byte): every byte counts, a quarter of the multiplies.
  let h = 0x811c9dc5 ^ n;
  let i = start;
  for (const last = end - 3; i < last; i += 4) {
    h = Math.imul(h ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24)), 0x01000193);
  }
  for (; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  // murmur3's finaliser: the slot is the low bits, and the multiplies above only carry upwards.
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  const slot = (h >>> 0) & (SLOTS - 1);
  const at = slot * MAX_LEN;
  const cached = strings[slot];
  if (cached !== undefined && lengths[slot] === n) {
    let i = 0;
    while (i < n && bytes[at + i] === buf[start + i]) i++;
    if (i === n) return cached;
  }
  const s = (buf as NodeBuffer).utf8Slice(start, end);
  strings[slot] = s;
  lengths[slot] = n;
  for (let i = 0; i < n; i++) bytes[at + i] = buf[start + i]!;
  return s;
}
