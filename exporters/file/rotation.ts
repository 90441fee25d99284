import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { RotationConfig } from './config.js';

const DAY_MS = 86_400_000;

/** `2006-01-02T15-04-05.000`, the timestamp lumberjack (the collector's rotation) puts in backup names. */
export function stamp(ms: number, localtime: boolean): string {
  const d = new Date(ms);
  const [y, mo, da, h, mi, s, milli] = localtime
    ? [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds(), d.getMilliseconds()]
    : [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()];
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${y}-${p(mo)}-${p(da)}T${p(h)}-${p(mi)}-${p(s)}.${p(milli, 3)}`;
}

/** `dir/name-<stamp>.ext` for `dir/name.ext`. */
export function backupName(file: string, ms: number, localtime: boolean): string {
  const ext = path.extname(file);
  return path.join(path.dirname(file), `${path.basename(file, ext)}-${stamp(ms, localtime)}${ext}`);
}

function parseStamp(s: string, localtime: boolean): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})\.(\d{3})$/.exec(s);
  if (!m) return NaN;
  const [y, mo, d, h, mi, sec, ms] = m.slice(1).map(Number) as [number, number, number, number, number, number, number];
  return localtime ? new Date(y, mo - 1, d, h, mi, sec, ms).getTime() : Date.UTC(y, mo - 1, d, h, mi, sec, ms);
}

/** Backups of `file`, newest first. */
export async function listBackups(file: string, localtime: boolean): Promise<{ path: string; ms: number }[]> {
  const ext = path.extname(file);
  const base = path.basename(file, ext);
  const dir = path.dirname(file);
  const out: { path: string; ms: number }[] = [];
  for (const name of await readdir(dir)) {
    if (!name.startsWith(`${base}-`) || !name.endsWith(ext)) continue;
    const ms = parseStamp(name.slice(base.length + 1, name.length - ext.length), localtime);
    if (!Number.isNaN(ms)) out.push({ path: path.join(dir, name), ms });
  }
  return out.sort((a, b) => b.ms - a.ms);
}

/** Deletes backups beyond `max_backups` and older than `max_days`; returns the deleted paths. */
export async function pruneBackups(file: string, r: RotationConfig, now = Date.now()): Promise<string[]> {
  const backups = await listBackups(file, r.localtime);
  const doomed = backups.filter((b, i) => (r.maxBackups > 0 && i >= r.maxBackups) || (r.maxDays > 0 && now - b.ms > r.maxDays * DAY_MS));
  await Promise.all(doomed.map((b) => rm(b.path, { force: true })));
  return doomed.map((b) => b.path);
}
