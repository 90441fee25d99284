// What /proc says about a process: its container and Kubernetes identity, which process holds an OTLP
// connection, and whether a pid from telemetry is the process it describes.
//
// Container and Kubernetes identity of a process, from /proc/<pid>/cgroup (world-readable, so this works
// in the unprivileged pipeline) and, for the pod name and namespace, /proc/<pid>/environ (readable for the
// same user or with CAP_SYS_PTRACE). Shared by receiver/ebpf (kernel events) and processors/enrich
// (the agents' own telemetry); each keeps its own cache, keyed by what it knows (cgroup id, pid).

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { endianness } from 'node:os';
import { redactArgs } from './redact.js';
import type { WorkloadHint } from './workloads.js';

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

// ------------------------------------------------------------------ the process behind an OTLP connection
// The kernel's own record of who holds a TCP connection: /proc/net/tcp{,6} maps the connection's
// tuple to its socket inode, /proc/<pid>/fd shows which processes hold that inode. Used to check that
// the spans claiming a pid came over a connection of that process (or of an ancestor that exported on
// its behalf), so an OTLP client cannot make the sensor watch another process by naming its pid.

export interface TcpSocket {
  /** 16 bytes as 32 hex digits, IPv4 as ::ffff:a.b.c.d, so both tables and every notation compare equal. */
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  inode: number;
}

const LITTLE_ENDIAN = endianness() === 'LE';
const V4_MAPPED = '00000000000000000000ffff';

/** An address of /proc/net/tcp (8 hex digits) or tcp6 (32): 32-bit words in host byte order. */
function procAddress(hex: string): string {
  let out = '';
  for (let w = 0; w < hex.length; w += 8) {
    const word = hex.slice(w, w + 8).toLowerCase();
    out += LITTLE_ENDIAN ? word.slice(6, 8) + word.slice(4, 6) + word.slice(2, 4) + word.slice(0, 2) : word;
  }
  return out.length === 8 ? V4_MAPPED + out : out;
}

/** The lines of /proc/net/tcp or /proc/net/tcp6 (the header line and malformed lines are skipped). */
export function parseProcNetTcp(content: string): TcpSocket[] {
  const out: TcpSocket[] = [];
  for (const line of content.split('\n')) {
    const f = line.trim().split(/\s+/);
    // sl local_address rem_address st tx:rx tr:tm retrnsmt uid timeout inode ...
    if (f.length < 10 || !f[0]!.endsWith(':')) continue;
    const [la, lp] = f[1]!.split(':');
    const [ra, rp] = f[2]!.split(':');
    const inode = Number(f[9]);
    if (!la || !lp || !ra || !rp || !Number.isSafeInteger(inode)) continue;
    out.push({ localAddress: procAddress(la), localPort: parseInt(lp, 16), remoteAddress: procAddress(ra), remotePort: parseInt(rp, 16), inode });
  }
  return out;
}

/** An IP address in the 32-hex-digit form of `TcpSocket` (IPv4 and IPv4-mapped IPv6 alike); undefined if not an address. */
export function addressKey(address: string): string | undefined {
  const a = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  if (isIPv4(a)) return V4_MAPPED + a.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join('');
  if (!isIPv6(a)) return undefined;
  let tail = '';
  let head = a.replace(/%.*$/, '');
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(head);
  if (v4) {
    tail = addressKey(v4[1]!)!.slice(24);
    head = head.slice(0, -v4[1]!.length) + '0:0';
  }
  const [l, r] = head.split('::') as [string, string | undefined];
  const left = l ? l.split(':') : [];
  const right = r ? r.split(':') : [];
  const groups = r === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const hex = groups.map((g) => g.padStart(4, '0')).join('').toLowerCase();
  return tail ? hex.slice(0, 24) + tail : hex;
}

/** Whether `key` (from `addressKey`) is a loopback address: 127.0.0.0/8, ::1, or ::ffff:127.x. */
export function isLoopbackKey(key: string): boolean {
  return key === '00000000000000000000000000000001' || (key.startsWith(V4_MAPPED) && key.slice(24, 26) === '7f');
}

/**
 * The inode of the client's socket of a loopback TCP connection to our `serverPort`: the socket whose
 * local end is the peer we saw. Undefined when there is none (closed, or not in our network namespace).
 */
export function clientSocketInode(peerKey: string, peerPort: number, serverPort: number, procRoot = '/proc'): number | undefined {
  // Reading a table walks the kernel's whole socket hash (milliseconds whatever its size): the table
  // of the peer's family first, the other only for an IPv4 peer on an IPv6 socket (::ffff:a.b.c.d).
  for (const table of peerKey.startsWith(V4_MAPPED) ? ['tcp', 'tcp6'] : ['tcp6']) {
    let content: string;
    try {
      content = readFileSync(`${procRoot}/net/${table}`, 'latin1');
    } catch {
      continue; // no IPv6 in this kernel
    }
    for (const s of parseProcNetTcp(content)) {
      if (s.localPort === peerPort && s.remotePort === serverPort && s.localAddress === peerKey && s.inode !== 0) return s.inode;
    }
  }
  return undefined;
}

/** Whether process `pid` holds socket `inode` among its open files. */
export function holdsSocket(pid: number, inode: number, procRoot = '/proc'): boolean {
  const want = `socket:[${inode}]`;
  let fds: string[];
  try {
    fds = readdirSync(`${procRoot}/${pid}/fd`);
  } catch {
    return false; // gone, or another user's process without CAP_SYS_PTRACE
  }
  for (const fd of fds) {
    try {
      if (readlinkSync(`${procRoot}/${pid}/fd/${fd}`) === want) return true;
    } catch {
      /* closed meanwhile */
    }
  }
  return false;
}

/** The parent pid from /proc/<pid>/stat; undefined when the process is gone. */
export function parentPid(pid: number, procRoot = '/proc'): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`${procRoot}/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // `pid (comm) state ppid ...`; comm may hold spaces and parentheses, so read after the last ')'.
  const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  return Number.isInteger(ppid) ? ppid : undefined;
}

/** Ancestors looked at above a claimed pid; deeper chains are not followed. */
export const MAX_ANCESTRY = 32;

/**
 * The process among `pid` and its ancestors (below init, which is everyone's ancestor) that holds socket
 * `inode`; undefined when none does.
 */
export function socketHolderInLineage(pid: number, inode: number, procRoot = '/proc'): number | undefined {
  let p: number | undefined = pid;
  for (let depth = 0; p !== undefined && p > 1 && depth <= MAX_ANCESTRY; depth++) {
    if (holdsSocket(p, inode, procRoot)) return p;
    p = parentPid(p, procRoot);
  }
  return undefined;
}

/**
 * Every process holding socket `inode` (a scan of all /proc/<pid>/fd: milliseconds on a host with a
 * few hundred processes, so callers cache the answer per connection).
 */
export function socketHolders(inode: number, procRoot = '/proc'): number[] {
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync(procRoot);
  } catch {
    return out;
  }
  for (const e of entries) {
    const c = e.charCodeAt(0);
    if (c < 48 || c > 57) continue; // not a pid
    const pid = Number(e);
    if (holdsSocket(pid, inode, procRoot)) out.push(pid);
  }
  return out;
}

/**
 * The one process that holds socket `inode`: the only holder, or the holder that is an ancestor of all
 * the others (children that inherited it); undefined when nobody or unrelated processes hold it.
 */
export function socketOwner(inode: number, procRoot = '/proc'): number | undefined {
  const holders = socketHolders(inode, procRoot);
  if (holders.length <= 1) return holders[0];
  const set = new Set(holders);
  const top = holders.filter((pid) => {
    for (let p = parentPid(pid, procRoot), depth = 0; p !== undefined && p > 1 && depth <= MAX_ANCESTRY; p = parentPid(p, procRoot), depth++) {
      if (set.has(p)) return false;
    }
    return true;
  });
  return top.length === 1 ? top[0] : undefined;
}

// ------------------------------------------------------------------ is this pid the process the telemetry describes

/** /proc/<pid>/cmdline as arguments; undefined when the process is gone. Empty for a kernel thread. */
export function readCommandLine(pid: number, proc = '/proc'): string[] | undefined {
  try {
    const args = readFileSync(`${proc}/${pid}/cmdline`, 'utf8').split('\0');
    if (args[args.length - 1] === '') args.pop();
    return args;
  } catch {
    return undefined;
  }
}

/**
 * What a process runs: its arguments and executable path (the path needs ptrace access to another
 * user's process and is left out without it); undefined when the process is gone.
 */
export function readProcessImage(pid: number, proc = '/proc'): { args?: string[]; path?: string } | undefined {
  const args = readCommandLine(pid, proc);
  if (!args) return undefined;
  const image: { args?: string[]; path?: string } = args.length > 0 ? { args } : {};
  try {
    image.path = readlinkSync(`${proc}/${pid}/exe`);
  } catch {
    /* another user's process, or a kernel thread */
  }
  return image;
}

/**
 * Whether the process behind `hint.pid` here is the one the telemetry described. A pid from an SDK
 * may come from another PID namespace (a container) or have been reused; watching or tagging the wrong
 * process would be worse than none. Undefined = it is that process; otherwise why not (the message
 * names no argument: command lines carry secrets).
 */
export function mismatch(hint: Pick<WorkloadHint, 'pid' | 'executableName' | 'commandArgs'>, proc = '/proc'): string | undefined {
  const cmdline = readCommandLine(hint.pid, proc)?.filter(Boolean);
  let comm: string;
  try {
    comm = readFileSync(`${proc}/${hint.pid}/comm`, 'utf8').trim();
  } catch {
    return `no process ${hint.pid} here`;
  }
  if (!cmdline) return `no process ${hint.pid} here`;
  if (hint.commandArgs && hint.commandArgs.length > 0) {
    // Compared redacted: the telemetry's command line may arrive redacted already (enrich).
    const told = redactArgs(hint.commandArgs);
    const here = redactArgs(cmdline);
    const same = told.length === here.length && told.every((a, i) => a === here[i] || (i === 0 && basename(a) === basename(here[0] ?? '')));
    if (!same) return `command line differs from /proc/${hint.pid}/cmdline (${hint.commandArgs.length} arguments in the telemetry, ${cmdline.length} here)`;
  }
  if (hint.executableName) {
    // SDKs report a base name (Python) or the title, which Node sets to the path it was started by.
    const name = basename(hint.executableName);
    // comm is the first 15 bytes of the executable's base name (or a name the process gave itself).
    if (comm !== name.slice(0, 15) && basename(cmdline[0] ?? '') !== name) return `executable differs (telemetry: ${hint.executableName}, here: ${comm})`;
  }
  return undefined;
}

function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}
