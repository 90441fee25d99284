import { attr, bigIntToLong } from '../../pipeline/otlp/attributes.js';
import type { KeyValue, LogRecord, LogsData } from '../../pipeline/otlp/types.js';
import type { Entity, EntityKey } from './entity.js';
import { kindOfId } from './entity.js';

/** Instrumentation scope of the log records this processor writes (entity events, findings). */
export const AIBOM_SCOPE = 'aibom.aibom';

export const ENTITY_STATE = 'entity.state';
export const ENTITY_DELETE = 'entity.delete';

/** `entity.type` of an inventory entity. */
export function entityType(kind: string): string {
  return `aibom.${kind}`;
}

/** Identifying attributes as the spec wants them: a map of strings. */
function idMap(key: EntityKey): KeyValue[] {
  return Object.keys(key)
    .sort()
    .map((k) => attr(k, String(key[k])));
}

const kvlist = (values: KeyValue[]) => ({ kvlistValue: { values } });

const nanos = (ms: number) => bigIntToLong(BigInt(Math.floor(ms)) * 1_000_000n);

/**
 * OTel entity events (logs-based entity data model): `entity.state` carries `entity.type`,
 * `entity.id` (map), `entity.description` (map), `entity.relationships` and
 * `entity.report.interval` (seconds); `entity.delete` carries `entity.delete.reason`.
 * Our stable id rides along as `aibom.entity.id` so baselines and findings can name the entity.
 */
export function stateRecord(e: Entity, byId: (id: string) => Entity | undefined, reportIntervalMs: number, nowMs: number): LogRecord {
  const description: KeyValue[] = [attr('aibom.entity.name', e.name), attr('aibom.entity.source', e.source), attr('aibom.entity.observations', e.count), attr('aibom.entity.first_seen', new Date(e.firstSeenMs).toISOString()), attr('aibom.entity.last_seen', new Date(e.lastSeenMs).toISOString())];
  for (const [k, v] of Object.entries(e.attributes)) description.push(attr(k, Array.isArray(v) ? v : v));
  if (e.evidence.length > 0) description.push(attr('aibom.entity.evidence', e.evidence));
  const relationships = e.relations.flatMap((r) => {
    const to = byId(r.to);
    const kind = to?.kind ?? kindOfId(r.to);
    if (!to || !kind) return [];
    return [kvlist([attr('relationship.type', r.type), attr('entity.type', entityType(kind)), { key: 'entity.id', value: kvlist(idMap(to.key)) }, attr('aibom.entity.id', to.id)])];
  });
  const attributes: KeyValue[] = [
    attr('entity.type', entityType(e.kind)),
    { key: 'entity.id', value: kvlist(idMap(e.key)) },
    { key: 'entity.description', value: kvlist(description) },
    attr('entity.report.interval', Math.round(reportIntervalMs / 1000)),
    attr('aibom.entity.id', e.id),
  ];
  if (relationships.length > 0) attributes.push({ key: 'entity.relationships', value: { arrayValue: { values: relationships } } });
  return { timeUnixNano: nanos(nowMs), observedTimeUnixNano: nanos(nowMs), eventName: ENTITY_STATE, attributes };
}

export function deleteRecord(e: Entity, reason: string, nowMs: number): LogRecord {
  return {
    timeUnixNano: nanos(nowMs),
    observedTimeUnixNano: nanos(nowMs),
    eventName: ENTITY_DELETE,
    attributes: [attr('entity.type', entityType(e.kind)), { key: 'entity.id', value: kvlist(idMap(e.key)) }, attr('entity.delete.reason', reason), attr('aibom.entity.id', e.id)],
  };
}

/** One LogsData for records this processor made, under its own scope. */
export function logsOf(records: LogRecord[], serviceName: string, scopeVersion: string): LogsData {
  return { resourceLogs: [{ resource: { attributes: [attr('service.name', serviceName)] }, scopeLogs: [{ scope: { name: AIBOM_SCOPE, version: scopeVersion }, logRecords: records }] }] };
}

