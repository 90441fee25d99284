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

  /** Entries of the repeated field `WireBackedType.appendField` added while the message is bytes. */
  appended: object[] | undefined = undefined;

  /** The decoded message, decoded now if nothing has yet; from then on the bytes are not used. */
  abstract decode(): T;
}

/** A message type that may arrive as `WireBacked`, and the repeated field that may be appended to. */
export interface WireBackedType {
  appendField: number;
  /** Fully qualified name of the appended field's message type. */
  appendType: string;
}

/** By fully qualified name: the types encoder.ts checks for WireBacked values. */
export const WIRE_BACKED_TYPES: ReadonlyMap<string, WireBackedType> = new Map([
  ['.opentelemetry.proto.trace.v1.Span', { appendField: 9, appendType: '.opentelemetry.proto.common.v1.KeyValue' }],
]);
