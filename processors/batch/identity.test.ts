import Long from 'long';
import type protobuf from 'protobufjs';
import { describe, expect, test } from 'vitest';
import { root } from '../../pipeline/otlp/proto-root.js';
import { gen } from '../../pipeline/otlp/testdata/random-requests.js';
import type { AnyValue, KeyValue } from '../../pipeline/otlp/types.js';
import { identity } from './identity.js';

const ResourceType = root.lookupType('opentelemetry.proto.resource.v1.Resource');
const ScopeType = root.lookupType('opentelemetry.proto.common.v1.InstrumentationScope');

/** As the receiver hands it on: protobufjs's decoded message. */
const received = (type: protobuf.Type, value: object) => type.decode(type.encode(value as Record<string, unknown>).finish());
/** For failure messages: protobufjs's toJSON (what batch compared before; it wrote -0 as 0, so merged those). */
const json = (value: unknown, schemaUrl: unknown) => JSON.stringify([value ?? null, schemaUrl ?? '']);

/** Few distinct keys and values, so that random pairs are often equal and often differ by one field. */
function cases(seed: number) {
  const { r, int, pick } = gen(seed); // the span views' property tests' random numbers: the same cases on every run
  const value = (depth: number): AnyValue =>
    pick([
      () => ({ stringValue: pick(['', '1', 'a', 'ab', 'a:b']) }),
      () => ({ boolValue: r() < 0.5 }),
      () => ({ intValue: pick([Long.fromInt(1), Long.fromBits(0, 1), Long.fromInt(-1)]) }),
      () => ({ doubleValue: pick([1, 0, -0, 1.5]) }),
      () => ({ bytesValue: Buffer.from(pick(['', '01', '0102']), 'hex') }),
      () => (depth < 2 ? { arrayValue: { values: Array.from({ length: int(3) }, () => value(depth + 1)) } } : { stringValue: 'a' }),
      () => (depth < 2 ? { kvlistValue: { values: attributes(depth + 1) } } : { boolValue: true }),
      () => ({}),
    ])();
  const attributes = (depth = 0): KeyValue[] => Array.from({ length: int(3) }, () => ({ key: pick(['a', 'ab', 'b', '']), value: value(depth) }));
  // Top-level fields only when not their default, as SDKs send them (identity reads an explicit 0 or '' as unset).
  const some = <T>(key: string, v: T) => (v ? { [key]: v } : {});
  const resource = () => ({ attributes: attributes(), ...some('droppedAttributesCount', pick([0, 0, 2])), ...(r() < 0.2 ? { entityRefs: [{ type: pick(['host', 'service']), idKeys: ['a'] }] } : {}) });
  const scope = () => ({ ...some('name', pick(['', 'a', 'ab'])), ...some('version', pick(['', '1'])), attributes: attributes(), ...some('droppedAttributesCount', pick([0, 1])) });
  return { resource, scope, schemaUrl: () => pick(['', 'https://opentelemetry.io/schemas/1.0', undefined]) };
}

describe('batch identity of resources and scopes', () => {
  test('received resources and scopes merge exactly when they encode the same (random pairs)', () => {
    let same = 0;
    for (let seed = 1; seed <= 4000; seed++) {
      const g = cases(seed);
      for (const [type, make] of [
        [ResourceType, g.resource],
        [ScopeType, g.scope],
      ] as const) {
        const [a, b] = [received(type, make()), received(type, make())];
        const [ua, ub] = [g.schemaUrl(), g.schemaUrl()];
        const bytes = (m: protobuf.Message, url: string | undefined) => Buffer.concat([Buffer.from(type.encode(m).finish()), Buffer.from(`\0${url ?? ''}`)]);
        const equal = bytes(a, ua).equals(bytes(b, ub));
        if (equal) same++;
        expect(identity(a, ua) === identity(b, ub), `seed ${seed}: ${json(a, ua)} / ${json(b, ub)}`).toBe(equal);
      }
    }
    expect(same).toBeGreaterThan(100); // the pairs do test merging, not only telling apart
  });

  test('an object made here and its received copy merge; values of different types or split differently never do', () => {
    const made = { attributes: [{ key: 'service.name', value: { stringValue: 'agent' } }, { key: 'process.pid', value: { intValue: Long.fromInt(42) } }] };
    expect(identity(made, undefined)).toBe(identity(received(ResourceType, made), ''));
    expect(identity({ name: 'aibom.correlate', version: '1' }, '')).toBe(identity(received(ScopeType, { name: 'aibom.correlate', version: '1' }), undefined));
    const kinds: AnyValue[] = [{ stringValue: '1' }, { intValue: 1 }, { intValue: Long.fromInt(1) }, { doubleValue: 1 }, { boolValue: true }, { bytesValue: Buffer.from([1]) }, { arrayValue: { values: [{ stringValue: '1' }] } }, { kvlistValue: { values: [{ key: '1', value: null }] } }, {}];
    const keys = new Set(kinds.map((value) => identity({ attributes: [{ key: 'k', value }] }, '')));
    expect(keys.size).toBe(kinds.length);
    const split = (a: string, b: string) => identity({ attributes: [{ key: a, value: { stringValue: b } }] }, '');
    expect(split('ab', 'c')).not.toBe(split('a', 'bc'));
    expect(identity({ attributes: [{ key: 'a', value: { doubleValue: 0 } }] }, '')).not.toBe(identity({ attributes: [{ key: 'a', value: { doubleValue: -0 } }] }, ''));
    expect(identity({ name: 's' }, 'u')).not.toBe(identity({ name: 'su' }, ''));
  });

  test('strings as they are (lone surrogates, astral characters, a key longer than the buffer kept between keys)', () => {
    const one = (key: string, value: string) => identity({ attributes: [{ key, value: { stringValue: value } }] }, '');
    expect(one('\ud800', 'a')).not.toBe(one('\ufffd', 'a'));
    expect(one('a', '\udc00')).not.toBe(one('a', '\ud800'));
    expect(one('🚀', 'ü')).toBe('_{___[ks2:🚀vSs1:ü;]_}');
    const big = 'h'.repeat(70_000);
    expect(one('k', big)).toBe(`_{___[ks1:kvSs70000:${big};]_}`);
    expect(one('k', big + 'i')).not.toBe(one('k', big));
    // After a large key, a small one is made as before.
    expect(identity({ name: 'n', version: '1' }, 'u')).toBe('s1:u{s1:ns1:1___}');
    expect(identity({ attributes: [{ key: 'n', value: { intValue: Long.fromBits(-7, -1) } }, { key: 'd', value: { doubleValue: -2.5 } }] }, undefined)).toBe('_{___[ks1:nvIL-1,-7;;ks1:dvDn-2.5;;]_}');
  });
});
