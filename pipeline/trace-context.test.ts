import { describe, expect, test } from 'vitest';
import { parseTraceparent } from './trace-context.js';

const TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('parseTraceparent', () => {
  test('version 00: ids out, value normalised (whitespace trimmed)', () => {
    expect(parseTraceparent(TP)).toEqual({ value: TP, traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' });
    expect(parseTraceparent(` ${TP}\t`)?.value).toBe(TP);
  });

  test('a later version may carry more fields: the first four are read', () => {
    expect(parseTraceparent('01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra')?.value).toBe('01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  });

  test.each([
    [`${TP}-extra`, 'version 00 has exactly four fields'],
    ['ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', 'version ff'],
    ['00-00000000000000000000000000000000-b7ad6b7169203331-01', 'zero trace id'],
    ['00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01', 'zero span id'],
    ['00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01', 'uppercase hex'],
    ['00-0af7651916cd43dd8448eb211c8031-b7ad6b7169203331-01', 'short trace id'],
    ['garbage', 'not a traceparent'],
  ])('%s is refused (%s)', (bad) => {
    expect(parseTraceparent(bad)).toBeUndefined();
  });

  test('non-strings are refused', () => {
    for (const v of [undefined, null, 42, ['00'], {}]) expect(parseTraceparent(v)).toBeUndefined();
  });
});
