import type { KeyValue, LogsData, Signal, SignalData, Span, TracesData } from '../../pipeline/otlp/types.js';
import { WireSpan } from '../../pipeline/otlp/wire-span.js';
import { RESERVED_PREFIX, UNTRUSTED_PREFIX } from '../../pipeline/semconv.js';

/**
 * Why an item received over OTLP was changed (label `reason`), the first that applies: its scope,
 * its resource, its log event name, or its own attributes (span events and links included) used a
 * name this product reserves.
 */
export type NeutralizeReason = 'reserved_scope' | 'reserved_resource_attribute' | 'reserved_event_name' | 'reserved_attribute';

const A = RESERVED_PREFIX.charCodeAt(0);

function reserved(name: string | null | undefined): name is string {
  // The first-character test keeps the common case (no reserved name) at one comparison per key.
  return !!name && name.charCodeAt(0) === A && name.startsWith(RESERVED_PREFIX);
}

/** Renames reserved keys in place; true if any was. */
function renameKeys(list: KeyValue[] | null | undefined): boolean {
  if (!list) return false;
  let hit = false;
  for (const kv of list) {
    if (reserved(kv.key)) {
      kv.key = UNTRUSTED_PREFIX + kv.key;
      hit = true;
    }
  }
  return hit;
}

/** A span still as received whose bytes hold no reserved key (wire-check.ts found none): nothing to rename, nothing to decode. */
function clean(span: Span): boolean {
  return span instanceof WireSpan && span.message === undefined && !span.reservedKey;
}

type Counts = Map<NeutralizeReason, number>;

function add(counts: Counts, reason: NeutralizeReason, n: number): void {
  if (n > 0) counts.set(reason, (counts.get(reason) ?? 0) + n);
}

/**
 * Telemetry from an OTLP client may not pass for this product's own (kernel events, correlations,
 * findings): every attribute key, scope name and log event name under `aibom.` becomes
 * `untrusted.aibom.…`, in place (the receiver owns the decoded request). Values inside map (kvlist)
 * attributes and bodies are left as sent: no component reads reserved names there. Returns how many
 * items were changed, per reason; empty when none (the usual case: one prefix test per key).
 */
export function neutralize<S extends Signal>(signal: S, data: SignalData<S>): Counts {
  const counts: Counts = new Map();
  if (signal === 'traces') {
    for (const rs of (data as TracesData).resourceSpans) {
      const resourceHit = renameKeys(rs.resource?.attributes);
      for (const ss of rs.scopeSpans) {
        const scopeHit = renameScope(ss.scope);
        if (scopeHit || resourceHit) {
          for (const span of ss.spans) {
            if (clean(span)) continue;
            renameKeys(span.attributes);
            for (const e of span.events ?? []) renameKeys(e.attributes);
            for (const l of span.links ?? []) renameKeys(l.attributes);
          }
          add(counts, scopeHit ? 'reserved_scope' : 'reserved_resource_attribute', ss.spans.length);
          continue;
        }
        let n = 0;
        for (const span of ss.spans) {
          if (clean(span)) continue;
          let hit = renameKeys(span.attributes);
          for (const e of span.events ?? []) hit = renameKeys(e.attributes) || hit;
          for (const l of span.links ?? []) hit = renameKeys(l.attributes) || hit;
          if (hit) n++;
        }
        add(counts, 'reserved_attribute', n);
      }
    }
    return counts;
  }
  for (const rl of (data as LogsData).resourceLogs) {
    const resourceHit = renameKeys(rl.resource?.attributes);
    for (const sl of rl.scopeLogs) {
      const scopeHit = renameScope(sl.scope);
      let byName = 0;
      let byAttr = 0;
      for (const r of sl.logRecords) {
        const nameHit = reserved(r.eventName);
        if (nameHit) r.eventName = UNTRUSTED_PREFIX + r.eventName;
        const attrHit = renameKeys(r.attributes);
        if (nameHit) byName++;
        else if (attrHit) byAttr++;
      }
      if (scopeHit) add(counts, 'reserved_scope', sl.logRecords.length);
      else if (resourceHit) add(counts, 'reserved_resource_attribute', sl.logRecords.length);
      else {
        add(counts, 'reserved_event_name', byName);
        add(counts, 'reserved_attribute', byAttr);
      }
    }
  }
  return counts;
}

function renameScope(scope: { name?: string; attributes?: KeyValue[] } | null | undefined): boolean {
  if (!scope) return false;
  const nameHit = reserved(scope.name);
  if (nameHit) scope.name = UNTRUSTED_PREFIX + scope.name;
  return renameKeys(scope.attributes) || nameHit;
}
