/**
 * A DataView over the request buffer being walked, made once per buffer rather than per string or key:
 * the arrival check and the key-shape walk read 4-byte words of the same request in turn.
 */
let viewed: Buffer = Buffer.alloc(0);
let view = new DataView(viewed.buffer, 0, 0);

export function viewOf(buf: Buffer): DataView {
  if (buf !== viewed) {
    viewed = buf;
    view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  return view;
}
