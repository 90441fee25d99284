import { GrpcCode } from '../../pipeline/otlp/rpc-status.js';
import type { RejectReason } from './intake.js';

/** gRPC's length prefix: a compressed flag byte and a big-endian uint32 length. */
const PREFIX = 5;

/** A request the framing refuses: the status to answer and the counter reason it is filed under. */
export class FrameError extends Error {
  constructor(
    readonly code: number,
    readonly reason: RejectReason,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Collects the one length-prefixed message of a unary call from the stream's DATA chunks. Holds at
 * most the prefix, `limit` bytes of message and one chunk past it: a declared length over the limit
 * or bytes past the message are refused as they arrive, not after the whole body is read.
 */
export class UnaryFrameReader {
  private chunks: Buffer[] = [];
  /**
   * The message, once it is known to span chunks: each chunk is copied in as it arrives, while it is
   * still in the cache, and not kept (an agent's export of megabytes comes in 16 KiB DATA frames).
   */
  private out: Buffer | undefined;
  private received = 0;
  /** Prefix + message length, -1 until the prefix is in. */
  private expected = -1;
  compressed = false;

  constructor(private readonly limit: number) {}

  /** The message's length once its prefix is in; -1 before. */
  get length(): number {
    return this.expected < 0 ? -1 : this.expected - PREFIX;
  }

  push(chunk: Buffer): void {
    const at = this.received - PREFIX;
    this.received += chunk.length;
    if (this.expected >= 0 && this.received > this.expected) {
      throw new FrameError(GrpcCode.INTERNAL, 'malformed', 'a unary call carried more than one message');
    }
    if (this.out) {
      chunk.copy(this.out, at);
      return;
    }
    this.chunks.push(chunk);
    if (this.expected < 0 && this.received >= PREFIX) {
      this.readPrefix();
      if (this.received > this.expected) throw new FrameError(GrpcCode.INTERNAL, 'malformed', 'a unary call carried more than one message');
    }
    if (this.expected >= 0 && this.chunks.length > 1) {
      this.out = this.joined();
      this.chunks = [];
    }
  }

  private readPrefix(): void {
    const first = this.chunks[0]!;
    const head = first.length >= PREFIX ? first : Buffer.concat(this.chunks);
    const flag = head[0]!;
    const length = head.readUInt32BE(1);
    if (flag > 1) throw new FrameError(GrpcCode.INTERNAL, 'malformed', `invalid message flag ${flag} (0 or 1)`);
    if (length > this.limit) {
      throw new FrameError(GrpcCode.RESOURCE_EXHAUSTED, 'too_large', `Received message larger than max (${length} vs. ${this.limit})`);
    }
    this.compressed = flag === 1;
    this.expected = PREFIX + length;
  }

  /**
   * The message (without its prefix) once the request ended. A message in one chunk is not copied
   * unless it would hold on to a much larger buffer (Node hands DATA as slices of its socket reads,
   * and decoded spans keep their request's bytes while the pipeline holds them).
   */
  finish(): Buffer {
    if (this.received === 0) throw new FrameError(GrpcCode.INTERNAL, 'malformed', 'a unary call carried no message');
    if (this.expected < 0 || this.received < this.expected) {
      const want = this.expected < 0 ? `a ${PREFIX}-byte prefix` : `${this.expected} bytes`;
      throw new FrameError(GrpcCode.INTERNAL, 'malformed', `request ended inside a message: ${this.received} bytes of ${want}`);
    }
    if (this.out) return this.out;
    const message = this.chunks[0]!.subarray(PREFIX);
    return message.length * 2 >= message.buffer.byteLength ? message : Buffer.from(message);
  }

  /** The message's bytes so far, in a buffer of its whole length. */
  private joined(): Buffer {
    const out = Buffer.allocUnsafe(this.expected - PREFIX);
    let at = -PREFIX;
    for (const chunk of this.chunks) {
      if (at >= 0) chunk.copy(out, at);
      else if (chunk.length + at > 0) chunk.copy(out, 0, -at);
      at += chunk.length;
    }
    return out;
  }
}

/** The 5-byte prefix and `message`, uncompressed. */
export function frame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(PREFIX + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, PREFIX);
  return out;
}
