import { BoundedMap } from '../../pipeline/bounded-map.js';

/** What correlation remembers of a process, learned from the kernel events' resources. */
export interface ProcessInfo {
  ppid: number;
  comm: string;
}

/** pid -> parent, bounded; the least recently updated process is forgotten first. */
export class ProcessTable {
  private readonly procs: BoundedMap<number, ProcessInfo>;

  constructor(max: number) {
    this.procs = new BoundedMap(max);
  }

  get size(): number {
    return this.procs.size;
  }

  /** Records what an event tells of a process; true when that changed what was known. */
  note(pid: number, ppid: number, comm: string): boolean {
    if (!pid) return false;
    const known = this.procs.get(pid);
    if (known && known.ppid === ppid && known.comm === comm) return false;
    this.procs.delete(pid);
    this.procs.set(pid, { ppid: ppid || known?.ppid || 0, comm: comm || known?.comm || '' });
    return true;
  }

  /** Parent, grandparent, ... as far as known (cycles and depth are bounded). */
  *ancestors(pid: number, maxDepth = 32): Generator<number> {
    const seen = new Set<number>([pid]);
    let cur = this.procs.get(pid)?.ppid ?? 0;
    for (let depth = 0; cur > 0 && depth < maxDepth && !seen.has(cur); depth++) {
      yield cur;
      seen.add(cur);
      cur = this.procs.get(cur)?.ppid ?? 0;
    }
  }
}
