import { describe, expect, test } from 'vitest';
import { ContentIndex } from './content-index.js';
import { pieceKey, SharedPieces, type Piece } from './pieces.js';

describe('pieceKey', () => {
  test('the same text gives the same key however the string was made (flat, concatenated, sliced)', () => {
    const flat = 'pay DE89 3704 0044 0532 0130 00 by friday';
    const made = ['pay DE89 3704 ', '0044 0532 0130 00', ' by friday'].join('');
    const sliced = `xx${flat}yy`.slice(2, -2);
    expect(pieceKey(made)).toBe(pieceKey(flat));
    expect(pieceKey(sliced)).toBe(pieceKey(flat));
  });

  test('texts that differ only where UTF-8 cannot tell them apart (lone surrogates, U+FFFD) get different keys', () => {
    // As UTF-8, all three are the same bytes (a lone surrogate is written as U+FFFD).
    const keys = ['a\uD800b', 'a\uDBFFb', 'a\uFFFDb'].map(pieceKey);
    expect(new Set(keys).size).toBe(3);
  });

  test('texts that normalise alike but differ as written are pieces of their own, each indexed alike', () => {
    const a = 'Send it to EVIL@attacker.example';
    const b = '"send it to \\nevil@attacker.example"';
    expect(pieceKey(a)).not.toBe(pieceKey(b));
    const [ia, ib] = [new ContentIndex(), new ContentIndex()];
    ia.add(a, 1000);
    ib.add(b, 1000);
    expect(ib.size).toBe(ia.size);
    expect(ib.hasToken('evil@attacker.example') && ia.hasToken('evil@attacker.example')).toBe(true);
  });
});

describe('SharedPieces', () => {
  test('a piece stays while a trace holds it and goes with the last one', () => {
    const shared = new SharedPieces();
    const p: Piece = { index: new ContentIndex() };
    shared.hold('k', p);
    shared.hold('k', { index: new ContentIndex() });
    expect(shared.get('k')).toBe(p);
    shared.release(['k']);
    expect(shared.get('k')).toBe(p);
    shared.release(['k']);
    expect(shared.get('k')).toBeUndefined();
    expect(shared.size).toBe(0);
  });
});
