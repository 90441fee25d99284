/**
 * Why the announcer believes the telemetry came from the process: the OTLP connection it arrived on is
 * held (in the kernel's file table) by that process or an ancestor of it. A pid the telemetry merely
 * names is the sender's word, which any local client can forge.
 */
export interface WorkloadEvidence {
  kind: 'otlp_connection';
  /** The process that holds the connection: the announced pid or one of its ancestors. */
  holderPid: number;
}

/** What a component learned about a process from its telemetry, to tell it apart from a reused pid. */
export interface WorkloadHint {
  pid: number;
  evidence: WorkloadEvidence;
  /** `process.executable.name` of the telemetry's resource, when the SDK reported it. */
  executableName?: string;
  /** `process.command_args` of the telemetry's resource, when the SDK reported it. */
  commandArgs?: readonly string[];
  /** Why it is believed to be an AI workload, for the log (e.g. `span ChatOpenAI`). */
  reason: string;
}

type Listener = (hint: WorkloadHint) => void;

/** Announced pids remembered, so a busy agent is announced once; beyond it the oldest are forgotten. */
export const MAX_REMEMBERED_WORKLOADS = 16_384;

/**
 * Processes other components learned are AI workloads (an agent exporting GenAI spans), announced to
 * those that watch processes (the eBPF receiver adds them to what its sensor monitors). A control
 * channel beside the data flow, not a back-edge in it: nothing that flows through the pipeline changes.
 */
export class WorkloadRegistry {
  private readonly known = new Set<number>();
  private readonly listeners: Listener[] = [];

  announce(hint: WorkloadHint): void {
    if (!Number.isInteger(hint.pid) || hint.pid <= 0 || this.known.has(hint.pid)) return;
    this.known.add(hint.pid);
    if (this.known.size > MAX_REMEMBERED_WORKLOADS) this.known.delete(this.known.values().next().value!);
    for (const l of this.listeners) l(hint);
  }

  /** Returns the unsubscribe function. */
  subscribe(listener: Listener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }
}
