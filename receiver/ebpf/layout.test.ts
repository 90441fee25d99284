// Layout check between the C structs (bpf/aibom-sensor.h) and the decoder's offsets (layout.ts).
// bpf/.output/layout.json is printed by a C program compiled against the real header (`make -C bpf`).
// Without it the check skips locally; under CI it fails, because CI always builds bpf/ first.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONSTANTS, LAYOUT_VERSION, PROTOCOL_VERSION, STRUCTS } from './layout.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const LAYOUT_JSON = path.resolve(here, '../../bpf/.output/layout.json');

interface LayoutJson {
  layoutVersion: number;
  protocolVersion: number;
  structs: Record<string, { size: number; fields: Record<string, { offset: number; size: number }> }>;
  constants: Record<string, number>;
}

describe('C struct layout matches layout.ts', () => {
  it('same versions, structs, sizes, field offsets and constants', () => {
    if (!existsSync(LAYOUT_JSON)) throw new Error(`${LAYOUT_JSON} missing: run make -C bpf (it writes the C side of this check)`);
    const c = JSON.parse(readFileSync(LAYOUT_JSON, 'utf8')) as LayoutJson;
    expect(c.layoutVersion).toBe(LAYOUT_VERSION);
    expect(c.protocolVersion).toBe(PROTOCOL_VERSION);
    // Whole-object equality: a field added, removed, moved or resized on either side fails here.
    expect(STRUCTS).toEqual(c.structs);
    expect(CONSTANTS).toEqual(c.constants);
  });

  it('declares fields in ascending, non-overlapping order with no implicit padding', () => {
    for (const [name, st] of Object.entries(STRUCTS)) {
      let end = 0;
      for (const [field, l] of Object.entries(st.fields as Record<string, { offset: number; size: number }>)) {
        expect(l.offset, `${name}.${field} starts where the previous field ends`).toBe(end);
        end = l.offset + l.size;
      }
      expect(end, `${name} has no tail padding`).toBe(st.size);
    }
  });
});
