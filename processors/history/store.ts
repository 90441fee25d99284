import { appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { checkEntry, type HistoryEntry } from './entry.js';

/** The history file is unreadable or not ours: start-up (or the report) stops and says which file and line. */
export class HistoryError extends Error {
  override readonly name = 'HistoryError';
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`history ${file} cannot be used: ${reason} (fix or move the file; it is never reset silently)`);
  }
}

/** Every entry of the file, oldest first; [] when there is none yet. Any bad line is a HistoryError. */
export function readHistory(file: string): HistoryEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new HistoryError(file, (err as Error).message);
  }
  const out: HistoryEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (err) {
      throw new HistoryError(file, `line ${i + 1} is not JSON (${(err as Error).message})`);
    }
    const bad = checkEntry(parsed);
    if (bad) throw new HistoryError(file, `line ${i + 1}: ${bad}`);
    out.push(parsed as HistoryEntry);
  }
  return out;
}

/**
 * A bounded JSON-lines store. New entries are appended (one write per batch); compaction keeps the
 * entries inside the retention, the newest `maxEntries` of them, and rewrites the file through a
 * temporary file and a rename, so a crash leaves the old file or the new one. Only a count of lines is
 * held in memory.
 */
export class HistoryStore {
  private lines = 0;

  constructor(
    readonly file: string,
    private readonly retentionMs: number,
    private readonly maxEntries: number,
  ) {}

  /** Loads and compacts; returns how many entries retention and the bound dropped. */
  open(nowMs: number): { kept: number; expired: number; overLimit: number } {
    const all = readHistory(this.file);
    const r = this.compactEntries(all, nowMs);
    this.lines = r.kept.length;
    if (r.expired + r.overLimit > 0) this.rewrite(r.kept);
    return { kept: r.kept.length, expired: r.expired, overLimit: r.overLimit };
  }

  /** Appends entries; compacts once the file holds a tenth more than the bound. Returns the drops of that compaction. */
  append(entries: readonly string[], nowMs: number): { expired: number; overLimit: number } {
    if (entries.length === 0) return { expired: 0, overLimit: 0 };
    mkdirSync(dirname(this.file), { recursive: true });
    appendFileSync(this.file, `${entries.join('\n')}\n`);
    this.lines += entries.length;
    if (this.lines <= this.maxEntries + Math.ceil(this.maxEntries / 10)) return { expired: 0, overLimit: 0 };
    const r = this.compactEntries(readHistory(this.file), nowMs);
    this.rewrite(r.kept);
    this.lines = r.kept.length;
    return { expired: r.expired, overLimit: r.overLimit };
  }

  private compactEntries(all: HistoryEntry[], nowMs: number): { kept: HistoryEntry[]; expired: number; overLimit: number } {
    const live = all.filter((e) => e.timeMs >= nowMs - this.retentionMs);
    const kept = live.length > this.maxEntries ? live.slice(live.length - this.maxEntries) : live;
    return { kept, expired: all.length - live.length, overLimit: live.length - kept.length };
  }

  private rewrite(entries: readonly HistoryEntry[]): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
    renameSync(tmp, this.file);
  }
}
