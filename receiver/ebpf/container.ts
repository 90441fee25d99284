// Container and Kubernetes identity of the processes behind kernel events. Reading and parsing
// /proc/<pid>/cgroup and environ is shared with processors/enrich (pipeline/process-identity.ts); what
// stays here is the receiver's cache, keyed by cgroup id because every event carries it.

import { NO_CONTAINER, readContainerInfo, type ContainerInfo } from '../../pipeline/process-identity.js';
import { BoundedMap } from '../../pipeline/bounded-map.js';

export { parseCgroupFile, parseCgroupPath, podFromEnviron } from '../../pipeline/process-identity.js';
export type { ContainerInfo } from '../../pipeline/process-identity.js';

export interface ContainerResolver {
  /** The identity of the cgroup `cgroupId`, reading /proc/<pid>/cgroup on the first sight of it. */
  resolve(cgroupId: bigint, pid: number): ContainerInfo;
  readonly size: number;
}

export function createContainerResolver(opts: { maxEntries?: number; procRoot?: string } = {}): ContainerResolver {
  const max = opts.maxEntries ?? 4096;
  const proc = opts.procRoot ?? '/proc';
  const cache = new BoundedMap<bigint, ContainerInfo>(max);
  return {
    get size() {
      return cache.size;
    },
    resolve(cgroupId, pid) {
      const hit = cache.get(cgroupId);
      if (hit) return hit;
      // The process is gone (or /proc is not ours): unknown, not cached, the next event of the cgroup retries.
      const info = readContainerInfo(pid, proc);
      if (!info) return NO_CONTAINER;
      cache.set(cgroupId, info.containerId || info.podUid ? info : NO_CONTAINER);
      return cache.get(cgroupId)!;
    },
  };
}
