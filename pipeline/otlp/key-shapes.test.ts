import { describe, expect, test } from 'vitest';
import { attr } from './attributes.js';
import { tracesCodec } from './codec.js';
import { EMPTY_SHAPE } from './key-shapes.js';
import { appendAttributes, eachAttribute, KeyTest } from './span-view.js';
import type { KeyValue, Span, TracesData } from './types.js';
import type { WireSpan } from './wire-span.js';

const spansOf = (d: TracesData) => d.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)) as WireSpan[];
const span = (attributes: KeyValue[]): Span => ({ traceId: new Uint8Array(16), spanId: new Uint8Array(8), name: 'x', startTimeUnixNano: 0, endTimeUnixNano: 0, attributes });
const received = (lists: KeyValue[][]): WireSpan[] => {
  const bytes = Buffer.from(tracesCodec.encode({ resourceSpans: [{ scopeSpans: [{ spans: lists.map(span) }] }] }));
  return spansOf(tracesCodec.decodeReceived(bytes));
};
const keysOf = (s: Span) => {
  const out: string[] = [];
  eachAttribute(s, (k) => void out.push(k));
  return out;
};

describe('shared key lists (key-shapes.ts)', () => {
  test('spans with the same keys in the same order share one list; others get their own', () => {
    const [a, b, c, d] = received([
      [attr('gen_ai.operation.name', 'chat'), attr('server.port', 443)],
      [attr('gen_ai.operation.name', 'embeddings'), attr('server.port', 8080)],
      [attr('server.port', 443), attr('gen_ai.operation.name', 'chat')],
      [],
    ]);
    expect(a!.receivedAttributes()!.keys).toBe(b!.receivedAttributes()!.keys);
    expect(a!.receivedAttributes()!.shape).toBe(b!.receivedAttributes()!.shape);
    expect(keysOf(c!)).toEqual(['server.port', 'gen_ai.operation.name']);
    expect(keysOf(d!)).toEqual([]);
  });

  test('keys that differ in one byte, anywhere (a word compared at once or a tail byte), are different keys', () => {
    for (const base of ['a', 'ab', 'abc', 'abcd', 'abcde', 'gen_ai.usage.input_tokens', 'ünïcode']) {
      const bytes = Buffer.from(base);
      const lists = [[attr(base, 1)]];
      for (let i = 0; i < bytes.length; i++) {
        const other = Buffer.from(bytes);
        other[i] = other[i]! ^ 1;
        lists.push([attr(other.toString('latin1'), 1)]);
      }
      lists.push([attr(base + 'x', 1)], [attr(base.slice(0, -1), 1)], [attr(base, 2)]);
      const spans = received(lists);
      spans.forEach((s, i) => expect(keysOf(s)).toEqual(lists[i]!.map((kv) => kv.key)));
      expect(spans.at(-1)!.receivedAttributes()!.keys).toBe(spans[0]!.receivedAttributes()!.keys);
    }
  });

  test('spans of many kinds taking turns after a shared key (more than are compared by bytes) each get their own list, shared with their kind', () => {
    // 12 kinds after one shared first key, then a key that differs from a scanned one in its last byte.
    const kinds = Array.from({ length: 12 }, (_, k) => [attr('gen_ai.operation.name', 'chat'), attr(`kind.${k}`, k), attr(`tail${k % 3}`, 1)]);
    kinds.push([attr('gen_ai.operation.name', 'chat'), attr('kind.1x', 1)], [attr('gen_ai.operation.name', 'chat')]);
    const lists = [...kinds, ...[...kinds].reverse(), ...kinds];
    const spans = received(lists);
    spans.forEach((s, i) => expect(keysOf(s)).toEqual(lists[i]!.map((kv) => kv.key)));
    const n = kinds.length;
    for (let k = 0; k < n; k++) {
      expect(spans[2 * n + k]!.receivedAttributes()!.keys).toBe(spans[k]!.receivedAttributes()!.keys);
      expect(spans[2 * n - 1 - k]!.receivedAttributes()!.keys).toBe(spans[k]!.receivedAttributes()!.keys);
    }
  });

  test('a list seen lately is compared whole: keys of the same lengths in another order, or differing in one byte of one key, are another list', () => {
    // Same count and key lengths: the lists `listAt` picks by their lengths alone, compared by their bytes.
    const ab = [attr('key.a', 1), attr('key.b', 2), attr('key.a', 3)];
    const ba = [attr('key.b', 1), attr('key.a', 2), attr('key.a', 3)];
    const ac = [attr('key.a', 1), attr('key.b', 2), attr('key.c', 3)];
    const cb = [attr('key.c', 1), attr('key.b', 2), attr('key.a', 3)];
    const long = (c: string) => [attr('gen_ai.usage.input_tokens', 1), attr(`gen_ai.usage.output_token${c}`, 2)];
    // Keys under 4 bytes, and lists of many key bytes.
    const short = (a: string, b: string) => [attr(a, 1), attr(b, 2)];
    const wide = (c: string) => Array.from({ length: 12 }, (_, i) => attr(`${'w'.repeat(60)}${i}${i === 11 ? c : 'k'}`, i));
    const lists = [ab, ba, ab, ac, ab, long('s'), long('x'), long('s'), ba, ac, cb, ab, short('a', 'b'), short('b', 'a'), short('a', 'b'), wide('k'), wide('j'), wide('k')];
    const spans = received(lists);
    spans.forEach((s, i) => expect(keysOf(s)).toEqual(lists[i]!.map((kv) => kv.key)));
    const shape = (i: number) => spans[i]!.receivedAttributes()!.shape;
    expect(new Set([0, 1, 3, 5, 6, 10, 12, 13, 15, 16].map(shape)).size).toBe(10);
    for (const [i, j] of [[0, 2], [0, 4], [5, 7], [1, 8], [3, 9], [0, 11], [12, 14], [15, 17]] as const) expect(shape(j)).toBe(shape(i));
    // The repeated key is kept twice, in place: a reader's plan takes the first.
    expect(spans[0]!.receivedAttributes()!.keys).toEqual(['key.a', 'key.b', 'key.a']);
  });

  test('lists whose keys\' bytes run the same but split at other lengths are other lists', () => {
    // Two keys of 'abcd' repeated, 4k and 4(40 - k) bytes: the same 160 bytes in a row, 39 lists.
    const lists = Array.from({ length: 39 }, (_, k) => [attr('abcd'.repeat(k + 1), 1), attr('abcd'.repeat(39 - k), 2)]);
    const all = [...lists, ...lists.reverse()];
    received(all).forEach((s, i) => expect(keysOf(s)).toEqual(all[i]!.map((kv) => kv.key)));
  });

  test('a list longer than the tree keeps is the span\'s own, read the same', () => {
    const long = Array.from({ length: 100 }, (_, i) => attr(`k${i}`, i));
    const [s] = received([long]);
    expect(s!.receivedAttributes()!.shape).toBeUndefined();
    expect(keysOf(s!)).toEqual(long.map((kv) => kv.key));
  });

  test('bounded: past its size the tree starts over, and every span still reads its own keys', () => {
    const before = EMPTY_SHAPE;
    for (let r = 0; r < 60; r++) {
      const lists = Array.from({ length: 100 }, (_, i) => [attr(`a${r}.${i}`, 1), attr('b', 2)]);
      received(lists).forEach((s, i) => expect(keysOf(s)).toEqual(lists[i]!.map((kv) => kv.key)));
    }
    expect(EMPTY_SHAPE).not.toBe(before);
  });

  test('KeyTest: answered once per list for received keys, then the appended keys; decoded spans by their list', () => {
    let asked = 0;
    const isB = new KeyTest((k) => (asked++, k === 'b'));
    const [x, y] = received([[attr('a', 1)], [attr('a', 2)]]);
    expect(isB.any(x!)).toBe(false);
    const once = asked;
    expect(isB.any(y!)).toBe(false);
    expect(asked).toBe(once); // y shares x's list
    appendAttributes(y!, [attr('b', 3)]);
    expect(isB.any(y!)).toBe(true);
    x!.attributes!.push(attr('b', 4)); // decodes x
    expect(isB.any(x!)).toBe(true);
  });

  test('KeyTest with a list test: the received list answered as a whole (once per list), appended and decoded keys one by one', () => {
    let lists = 0;
    const repeatsA = new KeyTest(
      (k) => k === 'a',
      (keys) => (lists++, keys.filter((k) => k === 'a').length > 1),
    );
    const [once, twice, again] = received([[attr('a', 1), attr('b', 1)], [attr('a', 1), attr('a', 2)], [attr('a', 3), attr('b', 3)]]);
    expect(repeatsA.any(once!)).toBe(false); // one `a`: the per-key test would say true
    expect(repeatsA.any(twice!)).toBe(true);
    expect(repeatsA.any(again!)).toBe(false);
    expect(lists).toBe(2); // `again` shares `once`'s list
    appendAttributes(again!, [attr('a', 4)]);
    expect(repeatsA.any(again!)).toBe(true);
    expect(repeatsA.any(span([attr('a', 1)]))).toBe(true);
  });
});
