import protobuf from 'protobufjs';
import { stringCache, type StringCache } from '../string-cache.js';

/**
 * A protobufjs reader that returns one shared string for repeated short strings. OTLP repeats the
 * same attribute keys and many values ("gen_ai.operation.name", "chat", "openai") in every span;
 * protobufjs makes a new string for each, and because decoded spans wait in the batch processor
 * they survive young-generation GC and get copied and promoted. A small direct-mapped cache keyed
 * by the bytes (pipeline/string-cache.ts: 4096 strings of up to 32 bytes) hands back the string made
 * last time for the same bytes, so decoding is unchanged; the cache only changes which copy is returned.
 */
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
export const internedString: StringCache = stringCache(4096, 32);
