/** The last buffer `viewOf` was asked for, and its DataView. */
let viewed: Buffer = Buffer.alloc(0);
let view = new DataView(viewed.buffer, 0, 0);

/**
 * A DataView over `buf` (offsets as in `buf`), for reading four bytes at a time: the request buffer
 * being walked, made once per request (the arrival check and the key lists walk the same one), not
 * per read.
 */
export function viewOf(buf: Buffer): DataView {
  if (buf !== viewed) {
    viewed = buf;
    view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  return view;
}
