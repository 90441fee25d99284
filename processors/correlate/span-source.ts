import type { ClientInfo } from '../../pipeline/client-info.js';
import { addressKey, clientSocketInode, isLoopbackKey, socketHolderInLineage } from '../../pipeline/process-identity.js';

/** Why spans claiming a pid were not taken as that process's word (label `reason`). */
export type UnverifiedReason =
  /** The spans did not come from an OTLP receiver (no client info beside them). */
  | 'no_client'
  /** Not a loopback TCP peer (a relay collector, another host, a Unix socket): /proc cannot tell who sent them. */
  | 'not_loopback'
  /** No client socket for that peer in /proc/net/tcp{,6}: closed already, or another network namespace. */
  | 'connection_not_found'
  /** Neither the claimed process nor one of its ancestors holds the connection the spans came over. */
  | 'not_holder';

export type SpanSource = { holderPid: number } | { reason: UnverifiedReason };

/**
 * Checks a `process.pid` claimed by spans against the kernel's record of the OTLP connection they came
 * over: the client socket of that loopback connection (from /proc/net/tcp{,6}) must be held by the
 * claimed process or one of its ancestors (/proc/<pid>/fd). Costs one scan of the claimed lineage's
 * file descriptors; the socket's inode is cached per connection (ClientInfo object).
 */
export class SpanSourceCheck {
  private readonly inodes = new WeakMap<ClientInfo, number>();

  constructor(private readonly procRoot = '/proc') {}

  check(pid: number, client: ClientInfo | undefined): SpanSource {
    if (!client) return { reason: 'no_client' };
    const peerKey = client.peer ? addressKey(client.peer.address) : undefined;
    if (!client.peer || !peerKey || !isLoopbackKey(peerKey)) return { reason: 'not_loopback' };
    const lookup = () => clientSocketInode(peerKey, client.peer!.port, client.localPort, this.procRoot);
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
}
