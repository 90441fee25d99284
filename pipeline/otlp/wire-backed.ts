import type { Buffer } from 'node:buffer';

/**
 * A message that still holds the bytes it was received as. Until something reads or changes it
 * through its fields, `message` is undefined and the exporter's encoder copies `buf[start, end)`
 * as it is; once decoded, the encoder writes `message` like any other.
 */
export abstract class WireBacked<T extends object> {
  message: T | undefined = undefined;

  constructor(
    readonly buf: Buffer,
    readonly start: number,
    readonly end: number,
  ) {}

  /** The decoded message, decoded now if nothing has yet; from then on the bytes are not used. */
  abstract decode(): T;
}

/** Fully qualified names of the message types that may arrive as `WireBacked` (encoder.ts checks only these). */
export const WIRE_BACKED_TYPES: ReadonlySet<string> = new Set(['.opentelemetry.proto.trace.v1.Span']);
