/** Node's Buffer has utf8Slice and latin1Slice (protobufjs uses the first too); @types/node does not declare them. */
type NodeBuffer = Buffer & { utf8Slice(start: number, end: number): string; latin1Slice(start: number, end: number): string };

/** `(buf, start, end)` -> the UTF-8 (or latin1) string of those bytes. */
export type StringCache = (buf: Buffer, start: number, end: number) => string;

/**
 * A direct-mapped cache of strings keyed by their bytes (FNV-1a): the string made last time for the same
 * bytes comes back, so repeated strings (OTLP attribute keys, a kernel event's path and comm) are made
 * once and shared instead of made per occurrence and garbage-collected, or promoted with what holds them.
 * Same bytes give the same string value: only which copy is returned changes. Strings longer than
 * `maxLen` bytes are made as usual. Memory: `slots × maxLen` bytes (rounded up to 4 per slot) plus at most `slots` strings.
 * `latin1`: the bytes read as latin1 (captured HTTP heads, receiver/ebpf/wire-parse.ts), not UTF-8.
 */
export function stringCache(slots: number, maxLen: number, latin1 = false): StringCache {
  if ((slots & (slots - 1)) !== 0) throw new Error(`stringCache: slots must be a power of two, got ${slots}`);
  const strings: (string | undefined)[] = new Array<string | undefined>(slots).fill(undefined);
  const lengths = new Uint16Array(slots);
  // A slot's bytes start on a 4-byte boundary, so a hit compares the words the hash read (kept in
  // `seen`) with the slot's as 32-bit numbers: the byte-by-byte compare was the hottest line of a hit.
  const stride = (maxLen + 3) & ~3;
  const bytes = new Uint8Array(slots * stride);
  // Platform byte order (little-endian where node runs): on a big-endian host the words never match and every lookup is a miss, still correct.
  const words = new Int32Array(bytes.buffer);
  const seen = new Int32Array(stride >>> 2);
  // The words are read through a DataView over the buffer (one load each, not four), made once per buffer;
  // the last buffer stays referenced until another comes (as buffer-view.ts keeps the request it walked).
  let viewed: Uint8Array = bytes;
  let view: DataView = new DataView(bytes.buffer, 0, 0);
  return (buf, start, end) => {
    const n = end - start;
    if (n === 0) return '';
    if (n > maxLen) return latin1 ? (buf as NodeBuffer).latin1Slice(start, end) : (buf as NodeBuffer).utf8Slice(start, end);
    if (buf !== viewed) {
      viewed = buf;
      view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    // FNV-1a over 4-byte words (the tail byte by byte): every byte counts, a quarter of the multiplies.
    let h = 0x811c9dc5 ^ n;
    let i = start;
    let k = 0;
    for (const last = end - 3; i < last; i += 4) {
      const w = view.getInt32(i, true);
      seen[k++] = w;
      h = Math.imul(h ^ w, 0x01000193);
    }
    for (; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    // murmur3's finaliser: the slot is the low bits, and the multiplies above only carry upwards.
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
    const slot = (h >>> 0) & (slots - 1);
    const at = slot * stride;
    const cached = strings[slot];
    if (cached !== undefined && lengths[slot] === n) {
      const w0 = at >>> 2;
      let j = 0;
      while (j < k && words[w0 + j] === seen[j]) j++;
      if (j === k) {
        let b = 4 * k;
        while (b < n && bytes[at + b] === buf[start + b]) b++;
        if (b === n) return cached;
      }
    }
    const s = latin1 ? (buf as NodeBuffer).latin1Slice(start, end) : (buf as NodeBuffer).utf8Slice(start, end);
    strings[slot] = s;
    lengths[slot] = n;
    for (let j = 0; j < n; j++) bytes[at + j] = buf[start + j]!;
    return s;
  };
}
