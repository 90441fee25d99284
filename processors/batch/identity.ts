/**
 * A string two resources (or two scopes) share only if they encode to the same message: the fields
 * the encoder writes (Resource, InstrumentationScope, KeyValue, AnyValue), each with a tag, strings
 * with their length, so two different values never give one string. Made once per received resource and
 * scope: `JSON.stringify` went through protobufjs's `toJSON` (a converted copy of the message), ~6 µs
 * per loadgen request against ~1 µs (bench/README.md).
 */
export function identity(value: unknown, schemaUrl: unknown): string {
  const url = typeof schemaUrl === 'string' && schemaUrl !== '' ? str(schemaUrl) : '_';
  if (value === null || typeof value !== 'object') return url;
  const v = value as Fields;
  return `${url}{${field(v['name'])}${field(v['version'])}${field(v['droppedAttributesCount'])}${keyValues(v['attributes'])}${field(v['entityRefs'])}}`;
}

/**
 * A field of the resource or scope itself. Unset, empty and the proto3 default read the same
 * (protobufjs's decoded messages have '' and 0 on their prototype and own empty lists; objects made
 * here leave them out), as they did under `toJSON`.
 */
function field(v: unknown): string {
  return v === undefined || v === null || v === '' || v === 0 || (Array.isArray(v) && v.length === 0) ? '_' : any(v);
}

type Fields = Record<string, unknown>;

function str(v: unknown): string {
  return typeof v === 'string' ? `s${v.length}:${v}` : any(v);
}

function num(v: unknown): string {
  return typeof v === 'number' ? (Object.is(v, -0) ? 'n-0;' : `n${v};`) : any(v);
}

/** 64-bit integers as protobufjs gives them (Long) or a component set them (number, string). */
function int64(v: unknown): string {
  if (v !== null && typeof v === 'object' && 'high' in v && 'low' in v) return `L${(v as { high: number }).high},${(v as { low: number }).low};`;
  return typeof v === 'number' ? num(v) : str(v);
}

function keyValues(list: unknown): string {
  if (!Array.isArray(list) || list.length === 0) return field(list);
  let s = '[';
  for (const kv of list as (Fields | null)[]) s += kv === null || typeof kv !== 'object' ? any(kv) : `k${str(kv['key'])}${anyValue(kv['value'])}`;
  return `${s}]`;
}

/** Every member of the oneof that is set (a valid value has one; the encoder would write them all). */
function anyValue(value: unknown): string {
  if (value === null || value === undefined) return '_';
  if (typeof value !== 'object') return any(value);
  const v = value as Fields;
  let s = 'v';
  if (v['stringValue'] != null) s += `S${str(v['stringValue'])}`;
  if (v['boolValue'] != null) s += `B${any(v['boolValue'])}`;
  if (v['intValue'] != null) s += `I${int64(v['intValue'])}`;
  if (v['doubleValue'] != null) s += `D${num(v['doubleValue'])}`;
  if (v['arrayValue'] != null) s += `A${list(v['arrayValue'])}`;
  if (v['kvlistValue'] != null) s += `K${keyValues((v['kvlistValue'] as Fields)['values'])}`;
  if (v['bytesValue'] != null) s += `Y${any(v['bytesValue'])}`;
  return `${s};`;
}

function list(arrayValue: unknown): string {
  const values = (arrayValue as Fields)['values'];
  if (!Array.isArray(values)) return any(values);
  let s = '[';
  for (const item of values) s += anyValue(item);
  return `${s}]`;
}

/** Anything else (entity refs, a value of an unexpected type): every own field, tagged by type. */
function any(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return str(v);
    case 'number':
      return num(v);
    case 'boolean':
      return v ? 't' : 'f';
    case 'bigint':
      return `i${v};`;
    case 'object': {
      if (v === null) return '_';
      if (ArrayBuffer.isView(v)) return `b${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')};`;
      let s = '';
      if (Array.isArray(v)) {
        for (const item of v) s += any(item);
        return `[${s}]`;
      }
      for (const key of Object.keys(v)) {
        const field = (v as Fields)[key];
        // The encoder writes nothing for these: a decoded message's empty lists, an unset field.
        if (field === undefined || field === null || (Array.isArray(field) && field.length === 0)) continue;
        s += `${str(key)}${any(field)}`;
      }
      return `{${s}}`;
    }
    default:
      return '_';
  }
}
