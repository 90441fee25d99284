import Long from 'long';
import protobuf from 'protobufjs';
import { OTLP_PROTO_SOURCES } from './schema.js';

// 64-bit fields must stay exact (nanosecond timestamps exceed 2^53), so protobufjs decodes them as Long.
protobuf.util.Long = Long;
protobuf.configure();

/** The OTLP schema, parsed once; shared by the codec and the wire-backed span decoder. */
export const root = new protobuf.Root();
for (const source of OTLP_PROTO_SOURCES) protobuf.parse(source, root, { keepCase: false });
root.resolveAll();

// protobufjs gives unset oneof members their type's default on the prototype ('' for string_value),
// which reads as "set" to `v.stringValue != null`. OTLP AnyValue is all oneof: unset must read as null.
for (const field of root.lookupType('opentelemetry.proto.common.v1.AnyValue').oneofsArray.flatMap((o) => o.fieldsArray)) {
  (root.lookupType('opentelemetry.proto.common.v1.AnyValue').ctor.prototype as Record<string, unknown>)[field.name] = null;
}
