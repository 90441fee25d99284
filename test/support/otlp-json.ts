import type { JaegerSpan, JaegerTrace, JsonKeyValue } from './jaeger.js';

/** An OTLP/JSON AnyValue as the plain value the test apps describe (bytes as {bytesBase64}). */
export function plainValue(v: Record<string, unknown> | undefined): unknown {
  if (!v) return undefined;
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return Number(v.doubleValue);
  if ('bytesValue' in v) return { bytesBase64: v.bytesValue };
  if ('arrayValue' in v) return ((v.arrayValue as { values?: Record<string, unknown>[] }).values ?? []).map(plainValue);
  if ('kvlistValue' in v) return plainAttributes((v.kvlistValue as { values?: JsonKeyValue[] }).values);
  return undefined;
}

export function plainAttributes(list: JsonKeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, plainValue(kv.value)]));
}

/**
 * The complete lines of a JSON-lines file that a writer may still be appending to: the piece after
 * the last newline is a line half written (or nothing), never parsed.
 */
export function completeLines(jsonLines: string): string[] {
  return jsonLines.split('\n').slice(0, -1).filter((l) => l.trim());
}

/** Reads an OTLP JSON-lines file (our file exporter's output) into its log records. */
export function logRecordsOf(jsonLines: string): { resource: Record<string, unknown>; record: Record<string, unknown> }[] {
  const out: { resource: Record<string, unknown>; record: Record<string, unknown> }[] = [];
  for (const line of completeLines(jsonLines)) {
    const doc = JSON.parse(line) as { resourceLogs?: { resource?: { attributes?: JsonKeyValue[] }; scopeLogs?: { logRecords?: Record<string, unknown>[] }[] }[] };
    for (const rl of doc.resourceLogs ?? []) {
      for (const sl of rl.scopeLogs ?? []) for (const record of sl.logRecords ?? []) out.push({ resource: plainAttributes(rl.resource?.attributes), record });
    }
  }
  return out;
}

/** Reads an OTLP JSON-lines file into its spans (name, scope, plain attributes). */
export function spansOf(jsonLines: string): { name: string; scope: string | undefined; attributes: Record<string, unknown> }[] {
  const out: { name: string; scope: string | undefined; attributes: Record<string, unknown> }[] = [];
  for (const line of completeLines(jsonLines)) {
    const doc = JSON.parse(line) as { resourceSpans?: { scopeSpans?: { scope?: { name?: string }; spans?: { name: string; attributes?: JsonKeyValue[] }[] }[] }[] };
    for (const rs of doc.resourceSpans ?? []) {
      for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) out.push({ name: s.name, scope: ss.scope?.name, attributes: plainAttributes(s.attributes) });
    }
  }
  return out;
}

/** The spans of one trace in an OTLP JSON-lines file (our file exporter's output), shaped as Jaeger returns them. */
export function traceOf(jsonLines: string, traceIdHex: string): JaegerSpan[] {
  const out: JaegerSpan[] = [];
  for (const line of completeLines(jsonLines)) {
    if (!line.includes(traceIdHex)) continue;
    const doc = JSON.parse(line) as JaegerTrace;
    for (const rs of doc.resourceSpans ?? []) {
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) if (s.traceId === traceIdHex) out.push({ ...s, resource: rs.resource?.attributes ?? [], scope: ss.scope });
      }
    }
  }
  return out;
}
