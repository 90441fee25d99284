// Container and Kubernetes identity of a process, from /proc/<pid>/cgroup (world-readable, so this works
// in the unprivileged pipeline) and, for the pod name and namespace, /proc/<pid>/environ (readable for the
// same user or with CAP_SYS_PTRACE). Shared by receiver/ebpf (kernel events) and processors/enrich
// (the agents' own telemetry); each keeps its own cache, keyed by what it knows (cgroup id, pid).

import { readFileSync } from 'node:fs';

export interface ContainerInfo {
  containerId?: string;
  podUid?: string;
  /** Only from the process environment (POD_NAME, or HOSTNAME inside a pod), when readable. */
  podName?: string;
  /** Only from the process environment (POD_NAMESPACE), when readable. */
  namespace?: string;
}

/** The identity of a process outside any container (frozen: shared by every cache entry that has it). */
export const NO_CONTAINER: ContainerInfo = Object.freeze({});

// Runtime scopes and paths, cgroupfs and systemd drivers:
//   /docker/<id>, docker-<id>.scope, cri-containerd-<id>.scope, crio-<id>.scope, libpod-<id>.scope,
//   /kubepods/burstable/pod<uid>/<id>, kubepods-burstable-pod<uid_with_underscores>.slice/cri-containerd-<id>.scope
// conmon scopes (crio-conmon-, libpod-conmon-) are the monitor process, not the container.
const CONTAINER_ID = /(?:^|[/-])(?!conmon-)(?:docker-|cri-containerd-|crio-|libpod-|containerd-)?([0-9a-f]{64})(?:\.scope)?$/;
const POD_UID = /pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})/;

/** Parses the content of /proc/<pid>/cgroup (v2 line `0::/path` preferred, v1 lines as fallback). */
export function parseCgroupFile(content: string): ContainerInfo {
  const lines = content.split('\n').filter(Boolean);
  const v2 = lines.find((l) => l.startsWith('0::'));
  const paths = (v2 ? [v2, ...lines.filter((l) => l !== v2)] : lines).map((l) => l.slice(l.indexOf(':', l.indexOf(':') + 1) + 1));
  for (const p of paths) {
    const info = parseCgroupPath(p);
    if (info.containerId || info.podUid) return info;
  }
  return NO_CONTAINER;
}

export function parseCgroupPath(path: string): ContainerInfo {
  const info: ContainerInfo = {};
  const segments = path.split('/');
  for (let i = segments.length - 1; i >= 0; i--) {
    const seg = segments[i]!;
    if (seg.includes('conmon-')) continue;
    const m = CONTAINER_ID.exec(seg);
    if (m) {
      info.containerId = m[1]!;
      break;
    }
  }
  if (/kubepods/.test(path)) {
    const pod = POD_UID.exec(path);
    if (pod) info.podUid = pod[1]!.replace(/_/g, '-');
  }
  return info;
}

/** POD_NAME / POD_NAMESPACE as set by the downward API convention; HOSTNAME is the pod name by default. */
export function podFromEnviron(environ: string): Pick<ContainerInfo, 'podName' | 'namespace'> {
  const out: Pick<ContainerInfo, 'podName' | 'namespace'> = {};
  let hostname: string | undefined;
  for (const kv of environ.split('\0')) {
    const eq = kv.indexOf('=');
    if (eq <= 0) continue;
    const k = kv.slice(0, eq);
    const v = kv.slice(eq + 1);
    if (!v) continue;
    if (k === 'POD_NAME' || k === 'K8S_POD_NAME' || k === 'MY_POD_NAME') out.podName = v;
    else if (k === 'POD_NAMESPACE' || k === 'K8S_NAMESPACE' || k === 'MY_POD_NAMESPACE') out.namespace = v;
    else if (k === 'HOSTNAME') hostname = v;
  }
  if (!out.podName && hostname) out.podName = hostname;
  return out;
}

/** The value of one variable in the content of /proc/<pid>/environ. */
export function environVar(environ: string, name: string): string | undefined {
  const prefix = `${name}=`;
  for (const kv of environ.split('\0')) if (kv.startsWith(prefix)) return kv.slice(prefix.length);
  return undefined;
}

/** /proc/<pid>/environ, or undefined when not readable (another user without CAP_SYS_PTRACE, or gone). */
export function readEnviron(pid: number, procRoot = '/proc'): string | undefined {
  try {
    return readFileSync(`${procRoot}/${pid}/environ`, 'latin1');
  } catch {
    return undefined;
  }
}

/**
 * The container identity of process `pid` as seen through `procRoot`; undefined when there is no such
 * process (gone, or /proc is not ours). Pod name and namespace are read from the environment only for
 * a process in a pod, and stay absent when the environment is not readable.
 */
export function readContainerInfo(pid: number, procRoot = '/proc'): ContainerInfo | undefined {
  let info: ContainerInfo;
  try {
    info = parseCgroupFile(readFileSync(`${procRoot}/${pid}/cgroup`, 'latin1'));
  } catch {
    return undefined;
  }
  if (!info.podUid) return info;
  const environ = readEnviron(pid, procRoot);
  return environ === undefined ? info : { ...info, ...podFromEnviron(environ) };
}
