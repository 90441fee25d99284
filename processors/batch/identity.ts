/**
 * A string two resources (or two scopes) share only if they encode to the same message: the fields
 * the encoder writes (Resource, InstrumentationScope, KeyValue, AnyValue), each with a tag, strings
 * with their length, so two different values never give one string. Made once per received resource and
 * scope: `JSON.stringify` went through protobufjs's `toJSON` (a converted copy of the message), ~6 µs
 * per loadgen request against ~1 µs (bench/README.md).
 */
export function identity(value: unknown, schemaUrl: unknown): string {
  if (typeof schemaUrl === 'string' && schemaUrl !== '') str(schemaUrl);
  else parts.push('_');
  if (value !== null && typeof value === 'object') {
    const v = value as Fields;
    parts.push('{');
    field(v['name']);
    field(v['version']);
    field(v['droppedAttributesCount']);
    keyValues(v['attributes']);
    field(v['entityRefs']);
    parts.push('}');
  }
  const s = parts.join('');
  parts.length = 0;
  return s;
}

/**
 * The pieces of the string being made, joined once into it: a template string per field and value made
 * a chain of partial strings per resource (~2 KB of garbage for a resource of ten attributes), and the
 * map lookup then copied it flat. `identity` is synchronous and the functions below only append.
 */
const parts: (string | number | bigint)[] = [];

/**
 * A field of the resource or scope itself. Unset, empty and the proto3 default read the same
 * (protobufjs's decoded messages have '' and 0 on their prototype and own empty lists; objects made
 * here leave them out), as they did under `toJSON`.
 */
function field(v: unknown): void {
  if (v === undefined || v === null || v === '' || v === 0 || (Array.isArray(v) && v.length === 0)) parts.push('_');
  else any(v);
}

type Fields = Record<string, unknown>;

function str(v: unknown): void {
  if (typeof v === 'string') parts.push('s', v.length, ':', v);
  else any(v);
}

function num(v: unknown): void {
  if (typeof v !== 'number') any(v);
  else if (Object.is(v, -0)) parts.push('n-0;');
  else parts.push('n', v, ';');
}

/** 64-bit integers as protobufjs gives them (Long) or a component set them (number, string). */
function int64(v: unknown): void {
  if (v !== null && typeof v === 'object' && 'high' in v && 'low' in v) parts.push('L', (v as { high: number }).high, ',', (v as { low: number }).low, ';');
  else if (typeof v === 'number') num(v);
  else str(v);
}

function keyValues(list: unknown): void {
  if (!Array.isArray(list) || list.length === 0) return field(list);
  parts.push('[');
  for (const kv of list as (Fields | null)[]) {
    if (kv === null || typeof kv !== 'object') any(kv);
    else {
      parts.push('k');
      str(kv['key']);
      anyValue(kv['value']);
    }
  }
  parts.push(']');
}

/** Every member of the oneof that is set (a valid value has one; the encoder would write them all). */
function anyValue(value: unknown): void {
  if (value === null || value === undefined) {
    parts.push('_');
    return;
  }
  if (typeof value !== 'object') return any(value);
  const v = value as Fields;
  parts.push('v');
  if (v['stringValue'] != null) {
    parts.push('S');
    str(v['stringValue']);
  }
  if (v['boolValue'] != null) {
    parts.push('B');
    any(v['boolValue']);
  }
  if (v['intValue'] != null) {
    parts.push('I');
    int64(v['intValue']);
  }
  if (v['doubleValue'] != null) {
    parts.push('D');
    num(v['doubleValue']);
  }
  if (v['arrayValue'] != null) {
    parts.push('A');
    list(v['arrayValue']);
  }
  if (v['kvlistValue'] != null) {
    parts.push('K');
    keyValues((v['kvlistValue'] as Fields)['values']);
  }
  if (v['bytesValue'] != null) {
    parts.push('Y');
    any(v['bytesValue']);
  }
  parts.push(';');
}

function list(arrayValue: unknown): void {
  const values = (arrayValue as Fields)['values'];
  if (!Array.isArray(values)) return any(values);
  parts.push('[');
  for (const item of values) anyValue(item);
  parts.push(']');
}

/** Anything else (entity refs, a value of an unexpected type): every own field, tagged by type. */
function any(v: unknown): void {
  switch (typeof v) {
    case 'string':
      return str(v);
    case 'number':
      return num(v);
    case 'boolean':
      parts.push(v ? 't' : 'f');
      return;
    case 'bigint':
      parts.push('i', v, ';');
      return;
    case 'object': {
      if (v === null) {
        parts.push('_');
        return;
      }
      if (ArrayBuffer.isView(v)) {
        parts.push('b', Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex'), ';');
        return;
      }
      if (Array.isArray(v)) {
        parts.push('[');
        for (const item of v) any(item);
        parts.push(']');
        return;
      }
      parts.push('{');
      for (const key of Object.keys(v)) {
        const field = (v as Fields)[key];
        // The encoder writes nothing for these: a decoded message's empty lists, an unset field.
        if (field === undefined || field === null || (Array.isArray(field) && field.length === 0)) continue;
        str(key);
        any(field);
      }
      parts.push('}');
      return;
    }
    default:
      parts.push('_');
  }
}
