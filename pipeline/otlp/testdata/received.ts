import { tracesCodec } from '../codec.js';
import type { TracesData } from '../types.js';
import { WireSpan } from '../wire-span.js';

/** `data` as an OTLP receiver hands it on: encoded, then decoded with `decodeReceived` (spans stay bytes). */
export function asReceived(data: TracesData): TracesData {
  return tracesCodec.decodeReceived(Buffer.from(tracesCodec.encode(data)));
}

/**
 * Of the spans in `batches`, how many arrived as bytes and how many of those a component decoded
 * (read `attributes`, events, links or status, or assigned a field, instead of using the span view).
 */
export function decodedSpans(batches: readonly TracesData[]): { received: number; decoded: number } {
  let received = 0;
  let decoded = 0;
  for (const d of batches)
    for (const rs of d.resourceSpans)
      for (const ss of rs.scopeSpans)
        for (const s of ss.spans) {
          if (!(s instanceof WireSpan)) continue;
          received++;
          if (s.message !== undefined) decoded++;
        }
  return { received, decoded };
}
