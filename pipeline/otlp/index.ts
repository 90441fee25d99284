export { codecFor, logsCodec, OtlpDecodeError, tracesCodec } from './codec.js';
export type { SignalCodec } from './codec.js';
export * from './attributes.js';
export { SpanKind, StatusCode } from './types.js';
export type * from './types.js';
