import { BoundedMap } from '../../pipeline/bounded-map.js';

/** What correlation remembers of a process, learned from the kernel events' resources. */
export interface ProcessInfo {
  ppid: number;
  comm: string;
}

/** How far up a process's ancestry correlation looks (parent, grandparent, ...). */
export const MAX_ANCESTRY = 32;

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

  /** The known parent of `pid`, 0 when unknown. Walk `parentOf` up to MAX_ANCESTRY times: a loop (pid reuse) ends there. */
  parentOf(pid: number): number {
    return this.procs.get(pid)?.ppid ?? 0;
  }
}
