/** `/tmp/x/3f9a...` -> `/tmp/x/{id}`: ids, uuids, pids and long random tokens are one placeholder. */
const ID_SEGMENT = /^(?:\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{12,}|[A-Za-z0-9_-]{24,}|tmp[A-Za-z0-9_]{6,})$/i;

export function normalizePath(path: string): string {
  return path
    .split('/')
    .map((s) => (ID_SEGMENT.test(s) ? '{id}' : s))
    .join('/');
}

function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/**
 * File paths a component opened, Kubescape-style: a directory with more than `collapseThreshold`
 * distinct children is kept as `dir/*`; sensitive paths always stay literal (a new credential file in
 * a known directory must still be seen). Paths are normalised (`{id}` for random segments) first.
 */
export class FileSet {
  private readonly entries: Set<string>;
  /** Distinct children per directory, only while the directory is not collapsed. */
  private readonly children = new Map<string, Set<string>>();

  constructor(
    entries: Iterable<string>,
    private readonly collapseThreshold: number,
    private readonly isSensitive: (path: string) => boolean,
  ) {
    this.entries = new Set(entries);
    for (const e of this.entries) if (!e.endsWith('/*') && !isSensitive(e)) this.child(e);
  }

  get size(): number {
    return this.entries.size;
  }

  has(path: string): boolean {
    const p = normalizePath(path);
    if (this.entries.has(p)) return true;
    return !this.isSensitive(p) && this.entries.has(`${dirOf(p)}/*`);
  }

  /** False when the set is full (`max` entries) and the path is new. */
  add(path: string, max: number): boolean {
    if (this.has(path)) return true;
    if (this.entries.size >= max) return false;
    const p = normalizePath(path);
    this.entries.add(p);
    if (this.isSensitive(p)) return true;
    const kids = this.child(p);
    if (kids.size > this.collapseThreshold) {
      const dir = dirOf(p);
      for (const k of kids) this.entries.delete(k);
      this.children.delete(dir);
      this.entries.add(`${dir}/*`);
    }
    return true;
  }

  private child(p: string): Set<string> {
    const dir = dirOf(p);
    let kids = this.children.get(dir);
    if (!kids) this.children.set(dir, (kids = new Set()));
    kids.add(p);
    return kids;
  }

  toJSON(): string[] {
    return [...this.entries].sort();
  }
}
