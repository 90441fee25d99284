/** Raised for bytes or JSON that are not a valid OTLP message; never retryable. */
export class OtlpDecodeError extends Error {
  override readonly name = 'OtlpDecodeError';
}
