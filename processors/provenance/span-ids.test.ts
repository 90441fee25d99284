import { describe, expect, test } from 'vitest';
import { asReceived } from '../../pipeline/otlp/testdata/received.js';
import type { Span, TracesData } from '../../pipeline/otlp/types.js';
import { NO_ID, SpanIdIndex } from './span-ids.js';

const span = (spanId: string, parentSpanId = ''): Span => ({
  traceId: Buffer.alloc(16, 1),
  spanId: Buffer.from(spanId, 'hex'),
  parentSpanId: Buffer.from(parentSpanId, 'hex'),
  name: 's',
  kind: 1,
  startTimeUnixNano: 0,
  endTimeUnixNano: 0,
});

const received = (spans: Span[]): Span[] => asReceived({ resourceSpans: [{ scopeSpans: [{ spans }] }] } as TracesData).resourceSpans[0]!.scopeSpans[0]!.spans;

describe('SpanIdIndex', () => {
  test.each([
    ['decoded', (s: Span[]) => s],
    ['received', received],
  ])('%s: one number per id, as the hex strings compare, past several doublings; hex as the span carries it', (_, as) => {
    // Ids sharing their first word, their second, both halves swapped, all zero, and of other lengths.
    const hexes = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const w = (i * 2654435761) >>> 0;
      hexes.add(`0000beef${w.toString(16).padStart(8, '0')}`);
      hexes.add(`${w.toString(16).padStart(8, '0')}0000beef`);
    }
    for (const h of ['0000000000000000', 'ffffffffffffffff', 'abcd', 'ab', `${'01'.repeat(16)}`, '0000beef']) hexes.add(h);
    const list = [...hexes];
    const spans = as(list.map((h, i) => span(h, list[(i + 1) % list.length])));
    const ids = new SpanIdIndex();
    const numbers = spans.map((s) => ids.of(s, 'spanId'));
    expect(new Set(numbers).size).toBe(list.length);
    expect(numbers.map((n) => ids.hex(n))).toEqual(list);
    // Asked again (as a parent id too): the same numbers.
    expect(spans.map((s) => ids.of(s, 'spanId'))).toEqual(numbers);
    expect(spans.map((s) => ids.of(s, 'parentSpanId'))).toEqual(numbers.map((_, i) => numbers[(i + 1) % numbers.length]));
  });

  test('an absent id is NO_ID, hex ""', () => {
    const ids = new SpanIdIndex();
    expect(ids.of(span('00000000000000aa'), 'parentSpanId')).toBe(NO_ID);
    expect(ids.of({ ...span('aa'), spanId: undefined as unknown as Uint8Array }, 'spanId')).toBe(NO_ID);
    expect(ids.hex(NO_ID)).toBe('');
  });
});
