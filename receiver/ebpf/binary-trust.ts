// A collector running as root executes the sensor with all privileges: if anyone else can change that
// file, or swap it (or a directory or symlink on its path) through a directory they can write, they
// get root. So before every exec the whole path is walked the way the kernel resolves it.

import { lstatSync, readlinkSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';

const S_ISVTX = 0o1000;
const GROUP_WRITE = 0o020;
const OTHER_WRITE = 0o002;
const MAX_SYMLINKS = 40; // as the kernel's ELOOP limit

/** Who may write a file or directory besides its trusted owner, or undefined. */
function otherWriters(st: Stats, trusted: ReadonlySet<number>): string | undefined {
  if (!trusted.has(st.uid)) return `owned by uid ${st.uid}`;
  if (st.mode & OTHER_WRITE) return 'writable by every user';
  if (st.mode & GROUP_WRITE && st.gid !== 0) return `writable by group ${st.gid}`;
  return undefined;
}

/**
 * Why `file` must not be executed by a process trusting only `trusted` uids (default: root), or
 * undefined when nobody else can change what runs. Checks every directory on the path (a sticky,
 * world-writable directory like /tmp is fine for entries a trusted user owns), every symlink's
 * target the same way, and the file itself.
 */
export function untrustedBinary(file: string, trusted: ReadonlySet<number> = new Set([0])): string | undefined {
  const pending = path.resolve(file).split('/').filter(Boolean);
  let dir = '/';
  let links = 0;
  while (pending.length > 0) {
    const name = pending.shift()!;
    if (name === '.') continue;
    if (name === '..') {
      dir = path.dirname(dir);
      continue;
    }
    const entry = path.join(dir, name);
    let st: Stats;
    let dirSt: Stats;
    try {
      dirSt = statSync(dir);
      st = lstatSync(entry);
    } catch (err) {
      return `${entry}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
    }
    const dirWriters = otherWriters(dirSt, trusted);
    // In a sticky directory only an entry's owner (or root) may rename or delete it.
    const protectedBySticky = (dirSt.mode & S_ISVTX) !== 0 && trusted.has(dirSt.uid) && trusted.has(st.uid);
    if (dirWriters && !protectedBySticky) return `directory ${dir} is ${dirWriters}, so ${entry} can be replaced`;
    if (st.isSymbolicLink()) {
      if (++links > MAX_SYMLINKS) return `${entry}: too many symbolic links`;
      const target = readlinkSync(entry);
      if (target.startsWith('/')) dir = '/';
      pending.unshift(...target.split('/').filter(Boolean));
      continue;
    }
    if (pending.length > 0) {
      if (!st.isDirectory()) return `${entry} is not a directory`;
    } else {
      const writers = otherWriters(st, trusted);
      if (writers) return `${entry} is ${writers}`;
    }
    dir = entry;
  }
  return undefined;
}

/** The refusal, naming the path and the fix. */
export function untrustedBinaryMessage(file: string, why: string): string {
  return `refusing to run the sensor binary ${file} as root: ${why}; make it and every directory on its path owned by root and not writable by others (chown root:root, chmod go-w), or set sensor.path to a root-owned copy`;
}
