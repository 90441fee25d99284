import type { ClientInfo } from '../../pipeline/client-info.js';
import { addressKey, clientSocketInode, holdsSocket, isLoopbackKey, readProcessImage, socketHolderInLineage, socketOwner } from '../../pipeline/process-identity.js';

/** Why spans claiming a pid were not taken as that process's word (label `reason`). */
export type UnverifiedReason =
  /** The spans did not come from an OTLP receiver (no client info beside them). */
  | 'no_client'
  /** Not a loopback TCP peer (a relay collector, another host, a Unix socket): /proc cannot tell who sent them. */
  | 'not_loopback'
  /** No client socket for that peer in /proc/net/tcp{,6}: closed already, or another network namespace. */
  | 'connection_not_found'
  /** Neither the claimed process nor one of its ancestors holds the connection the spans came over. */
  | 'not_holder'
  /** Over MAX_LOOKUPS_PER_SECOND: not checked now (the claim is checked again with the next spans). */
  | 'rate_limited';

export type SpanSource = { holderPid: number } | { reason: UnverifiedReason };

/**
 * /proc lookups (socket table reads, open-file scans) per second at most, so a client that opens
 * connections or names pids by the thousand costs a bounded share of a core.
 */
export const MAX_LOOKUPS_PER_SECOND = 20;

/** How long the process found holding a connection is trusted before it is checked again. */
export const OWNER_TTL_MS = 10_000;
/** How long "nobody here holds it" (closed, another namespace, unreadable fds) stands: a full scan costs tens of ms. */
export const NO_OWNER_TTL_MS = 60_000;

interface Owner {
  inode: number;
  pid: number | undefined;
  checkedAtMs: number;
  /** Who the first resource on the connection said it was. */
  sender: string;
  /** The connection carried more than one sender, or its holder does not run the SDK's language: a relay. */
  relay: boolean;
}

/** Executables an SDK of this `telemetry.sdk.language` runs in; languages compiled to their own binary are not listed. */
const RUNTIMES: Record<string, RegExp> = {
  python: /python|pypy|uvicorn|gunicorn/,
  nodejs: /node|bun|deno/,
  java: /java/,
  ruby: /ruby/,
  php: /php/,
};

/** What the resource says about who sent it, for telling an SDK's connection from a relay's. */
export interface Sender {
  /** service.name, service.instance.id and telemetry.sdk.language, joined. */
  identity: string;
  sdkLanguage: string | undefined;
}

/**
 * Checks a `process.pid` claimed by spans against the kernel's record of the OTLP connection they came
 * over: the client socket of that loopback connection (from /proc/net/tcp{,6}) must be held by the
 * claimed process or one of its ancestors (/proc/<pid>/fd). Costs one scan of the claimed lineage's
 * file descriptors; the socket's inode is cached per connection (ClientInfo object).
 */
export class SpanSourceCheck {
  private readonly inodes = new WeakMap<ClientInfo, number>();
  private readonly owners = new WeakMap<ClientInfo, Owner>();

  private windowStartMs = 0;
  private lookups = 0;

  constructor(private readonly procRoot = '/proc') {}

  check(pid: number, client: ClientInfo | undefined): SpanSource {
    if (!client) return { reason: 'no_client' };
    const lookup = this.inodeLookup(client);
    if (!lookup) return { reason: 'not_loopback' };
    if (!this.spend()) return { reason: 'rate_limited' };
    const cached = this.inodes.get(client);
    const inode = cached ?? lookup();
    if (inode === undefined) return { reason: 'connection_not_found' };
    this.inodes.set(client, inode);
    let holder = socketHolderInLineage(pid, inode, this.procRoot);
    if (holder === undefined && cached !== undefined) {
      // The cached inode may be that of a closed connection whose peer port a new one reuses.
      const now = lookup();
      if (now === undefined) return { reason: 'connection_not_found' };
      if (now !== inode) {
        this.inodes.set(client, now);
        holder = socketHolderInLineage(pid, now, this.procRoot);
      }
    }
    return holder === undefined ? { reason: 'not_holder' } : { holderPid: holder };
  }

  /**
   * The process holding the connection `client` sent `senders` over (the pid-less resources of one
   * request), when exactly one process (or one and the children that inherited it) holds it: what
   * stands in for a resource without `process.pid`. Found by a scan of every process's open files once
   * per connection; every OWNER_TTL_MS after, only that the holder still holds the socket is checked
   * (a gRPC peer's port may be reused by a new connection). Not for a relay (a collector forwarding
   * agents' telemetry): a connection that carries more than one sender, or whose holder does not run
   * the SDK's language (`telemetry.sdk.language` python, nodejs, java, ruby, php), gets no stand-in.
   */
  owner(client: ClientInfo | undefined, senders: readonly Sender[]): number | undefined {
    const sender = senders[0];
    if (!client || !sender) return undefined;
    const now = Date.now();
    let known = this.owners.get(client);
    // A collector relaying many agents holds the connection too: it must never stand in for them.
    if (senders.some((s) => s.identity !== (known?.sender ?? sender.identity))) {
      known ??= { inode: 0, pid: undefined, checkedAtMs: now, sender: sender.identity, relay: true };
      known.relay = true;
      this.owners.set(client, known);
    }
    if (known?.relay) return undefined;
    if (known) {
      const age = now - known.checkedAtMs;
      if (age < (known.pid === undefined ? NO_OWNER_TTL_MS : OWNER_TTL_MS)) return known.pid;
      if (known.pid !== undefined && holdsSocket(known.pid, known.inode, this.procRoot)) {
        known.checkedAtMs = now;
        return known.pid;
      }
    }
    const lookup = this.inodeLookup(client);
    if (!lookup || !this.spend()) return undefined; // over budget: tried again with the next request
    const inode = lookup();
    const pid = inode === undefined ? undefined : socketOwner(inode, this.procRoot);
    const runtime = sender.sdkLanguage ? RUNTIMES[sender.sdkLanguage] : undefined;
    const relay = pid !== undefined && runtime !== undefined && !runtime.test(executableOf(pid, this.procRoot));
    this.owners.set(client, { inode: inode ?? 0, pid, checkedAtMs: now, sender: known?.sender ?? sender.identity, relay });
    return relay ? undefined : pid;
  }

  private spend(): boolean {
    const now = Date.now();
    if (now - this.windowStartMs >= 1000) {
      this.windowStartMs = now;
      this.lookups = 0;
    }
    return ++this.lookups <= MAX_LOOKUPS_PER_SECOND;
  }

  /** Reads the inode of the client's socket, for loopback TCP peers only. */
  private inodeLookup(client: ClientInfo): (() => number | undefined) | undefined {
    const peer = client.peer;
    const peerKey = peer ? addressKey(peer.address) : undefined;
    if (!peer || !peerKey || !isLoopbackKey(peerKey)) return undefined;
    return () => clientSocketInode(peerKey, peer.port, client.localPort, this.procRoot);
  }
}

/** The executable's base name (argv[0]'s when the link is unreadable). */
function executableOf(pid: number, procRoot: string): string {
  const image = readProcessImage(pid, procRoot);
  const path = image?.path ?? image?.args?.[0] ?? '';
  return path.slice(path.lastIndexOf('/') + 1);
}
