// The sensor binary a root collector would exec, in temp copies with bad modes, owners and paths.

import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { createHost } from '../../pipeline/host.js';
import { untrustedBinary } from './binary-trust.js';
import { EbpfReceiver } from './ebpf-receiver.js';
import { SENSOR } from './testdata/kernel-harness.js';
import { collector, config, testSettings } from './testdata/receiver-harness.js';

if (process.getuid?.() !== 0) throw new Error('binary-trust tests need root (to create files owned by other users)');
const NOBODY = 65534;

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0).reverse()) f();
});

/** A root-owned 0700 directory with a root-owned 0755 copy of /bin/true in `sub/`. */
function layout(): { root: string; sub: string; bin: string } {
  const root = mkdtempSync(path.join(tmpdir(), 'aibom-trust-'));
  cleanup.push(() => rmSync(root, { recursive: true, force: true }));
  chmodSync(root, 0o755);
  const sub = path.join(root, 'sub');
  mkdirSync(sub, { mode: 0o755 });
  const bin = path.join(sub, 'aibom-sensor');
  copyFileSync('/bin/true', bin);
  chmodSync(bin, 0o755);
  return { root, sub, bin };
}

describe('untrustedBinary', () => {
  test('root-owned file in root-owned directories: trusted', () => {
    expect(untrustedBinary(layout().bin)).toBeUndefined();
  });

  test.each([
    ['world-writable file', (l: ReturnType<typeof layout>) => chmodSync(l.bin, 0o757), (l: ReturnType<typeof layout>) => `${l.bin} is writable by every user`],
    ['group-writable file of a non-root group', (l: ReturnType<typeof layout>) => (chownSync(l.bin, 0, NOBODY), chmodSync(l.bin, 0o775)), (l: ReturnType<typeof layout>) => `${l.bin} is writable by group ${NOBODY}`],
    ['file owned by another user', (l: ReturnType<typeof layout>) => chownSync(l.bin, NOBODY, 0), (l: ReturnType<typeof layout>) => `${l.bin} is owned by uid ${NOBODY}`],
    ['world-writable directory', (l: ReturnType<typeof layout>) => chmodSync(l.sub, 0o777), (l: ReturnType<typeof layout>) => `directory ${l.sub} is writable by every user, so ${l.bin} can be replaced`],
    ['directory owned by another user, higher up', (l: ReturnType<typeof layout>) => chownSync(l.sub, NOBODY, 0), (l: ReturnType<typeof layout>) => `directory ${l.sub} is owned by uid ${NOBODY}, so ${l.bin} can be replaced`],
    // /tmp is sticky, but the sticky bit protects only entries a trusted user owns.
    ['a directory others own inside /tmp', (l: ReturnType<typeof layout>) => chownSync(l.root, NOBODY, 0), (l: ReturnType<typeof layout>) => `directory ${path.dirname(l.root)} is writable by every user, so ${l.root} can be replaced`],
  ])('%s: refused, naming the path', (_what, spoil, reason) => {
    const l = layout();
    spoil(l);
    expect(untrustedBinary(l.bin)).toBe(reason(l));
  });

  test('a sticky world-writable directory protects entries root owns (like /tmp), not entries others own', () => {
    const l = layout();
    chmodSync(l.sub, 0o1777);
    expect(untrustedBinary(l.bin)).toBeUndefined();
    chownSync(l.bin, NOBODY, 0);
    expect(untrustedBinary(l.bin)).toBe(`directory ${l.sub} is writable by every user, so ${l.bin} can be replaced`);
  });

  test('symlinks are followed: a link in a safe place to a file in an unsafe one is refused, and the reverse', () => {
    const l = layout();
    const open = path.join(l.root, 'open');
    mkdirSync(open, { mode: 0o777 });
    chmodSync(open, 0o777);
    const bad = path.join(open, 'aibom-sensor');
    copyFileSync(l.bin, bad);
    const link = path.join(l.sub, 'link');
    symlinkSync('../open/aibom-sensor', link);
    expect(untrustedBinary(link)).toBe(`directory ${open} is writable by every user, so ${bad} can be replaced`);
    const linkInOpen = path.join(open, 'link');
    symlinkSync(l.bin, linkInOpen);
    expect(untrustedBinary(linkInOpen)).toBe(`directory ${open} is writable by every user, so ${linkInOpen} can be replaced`);
    const good = path.join(l.root, 'good');
    symlinkSync(l.bin, good);
    expect(untrustedBinary(good)).toBeUndefined();
  });

  test('the built sensor as installed here is trusted', () => {
    expect(untrustedBinary(SENSOR)).toBeUndefined();
  });
});

describe('the receiver as root', () => {
  const host = createHost((err) => {
    throw err;
  });

  test('refuses to exec a sensor binary others can write: one clear line, or a failed start when required', async () => {
    const l = layout();
    copyFileSync(SENSOR, l.bin);
    chmodSync(l.bin, 0o777);
    const settings = testSettings();
    const r = new EbpfReceiver(settings, config({ sensor: { path: l.bin } }), { logs: collector() });
    cleanup.push(() => void r.shutdown());
    await r.start(host);
    const msg = `eBPF sensor disabled: refusing to run the sensor binary ${l.bin} as root: ${l.bin} is writable by every user; make it and every directory on its path owned by root and not writable by others (chown root:root, chmod go-w), or set sensor.path to a root-owned copy`;
    expect(settings.lines.filter((x) => x.level >= 40).map((x) => x.msg)).toEqual([msg]);
    expect(r.running).toBe(false);
    const req = new EbpfReceiver(testSettings(), config({ required: true, sensor: { path: l.bin } }), { logs: collector() });
    cleanup.push(() => void req.shutdown());
    await expect(req.start(host)).rejects.toThrow(`receiver ebpf: ${msg}`);
  });
});
