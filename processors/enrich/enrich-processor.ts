import { hostname as osHostname } from 'node:os';
import type { Component, CreateSettings, Host } from '../../pipeline/component.js';
import { PermanentError, type Consumer, type Consumers } from '../../pipeline/consumer.js';
import { addHostId, readMachineId } from '../../pipeline/machine-id.js';
import { attr, fromAnyValue } from '../../pipeline/otlp/attributes.js';
import type { LogsData, Resource, Signal, TracesData } from '../../pipeline/otlp/types.js';
import { environVar, mismatch, readContainerInfo, readEnviron, type ContainerInfo } from '../../pipeline/process-identity.js';
import { redactCommandLine } from '../../pipeline/redact.js';
import { ATTR } from '../../pipeline/semconv.js';
import type { EnrichConfig } from './config.js';
import { PidCache } from './pid-cache.js';

/** Why a resource was left as it was (label `reason` of `aibom_enrich_skipped_resources_total`). */
export type SkipReason =
  /** No `process.pid` in the resource (an upstream collector's own data, a non-process resource). */
  | 'no_pid'
  /** The SDK (or receiver/ebpf) already set `container.id`. */
  | 'has_container_id'
  /** No such pid here: gone, or a pid from another PID namespace. */
  | 'no_process'
  /** `host.name` names neither this host nor the hostname the process itself sees. */
  | 'other_host'
  /** The pid exists here but runs another program than the telemetry describes (reused, or another namespace). */
  | 'other_process'
  /** The right process, outside any container, its `host.id` already set: nothing to add. */
  | 'not_in_container';

/** What is remembered of one pid until the cache's time to live ends. */
interface ProcessEntry {
  /** Undefined: no such process. */
  info: ContainerInfo | undefined;
  /** HOSTNAME in the process environment; null until needed, undefined when unset or unreadable. */
  hostname: string | undefined | null;
  /** `mismatch` verdicts per (executable name, command args) the telemetry reported for this pid. */
  verdicts: Map<string, string | undefined>;
}

/** Distinct (executable, args) pairs checked per pid at most; more means something odd, check again each time. */
const MAX_VERDICTS_PER_PID = 8;

export interface EnrichOptions {
  /** Clock for the cache's time to live. */
  now?: () => number;
  /** This host's name, as an SDK's host detector reports it (os.hostname()). */
  hostname?: string;
  /** This host's `host.id` (default: the machine-id, `pipeline/machine-id.ts`). */
  hostId?: string;
}

/**
 * Adds the host and container identity of the process (`host.id`, `container.id`, `k8s.pod.uid`,
 * `k8s.pod.name`, `k8s.namespace.name`) to resources that carry `process.pid` but no `container.id`,
 * reading /proc as receiver/ebpf does. `host.id` is the one kernel spans carry: a backend then sees an
 * agent and the kernel activity under its spans on one host (SDKs without a host detector, Python's
 * default, report none). A pid means something here only if it is the same process: the
 * telemetry's `process.executable.name`/`process.command_args` must match /proc and its `host.name`
 * this host, else nothing is added. Never overwrites an attribute the SDK set. Works in place (the
 * processor owns the data it consumes) and passes the data on at once.
 */
export class EnrichProcessor implements Component, Consumers {
  readonly traces: Consumer<TracesData>;
  readonly logs: Consumer<LogsData>;

  private readonly cache: PidCache<ProcessEntry>;
  private readonly now: () => number;
  private readonly hostname: string;
  private readonly hostId: string | undefined;
  private readonly enriched;
  private readonly skipped;

  constructor(
    private readonly settings: CreateSettings,
    private readonly config: EnrichConfig,
    private readonly next: Consumers,
    options: EnrichOptions = {},
  ) {
    this.cache = new PidCache(config.cacheSize, config.cacheTtlMs);
    this.now = options.now ?? Date.now;
    this.hostname = options.hostname ?? osHostname();
    this.hostId = options.hostId ?? readMachineId();
    const m = settings.metrics;
    this.enriched =
      (m.registry.getSingleMetric('aibom_enrich_enriched_resources_total') as ReturnType<typeof m.counter> | undefined) ??
      m.counter('aibom_enrich_enriched_resources_total', 'Resources given the host, container or Kubernetes identity of their process.', ['component', 'signal']);
    this.skipped =
      (m.registry.getSingleMetric('aibom_enrich_skipped_resources_total') as ReturnType<typeof m.counter> | undefined) ??
      m.counter('aibom_enrich_skipped_resources_total', 'Resources left unchanged, by reason.', ['component', 'signal', 'reason']);
    this.traces = {
      consume: (data) => {
        this.enrichAll('traces', data.resourceSpans);
        if (!next.traces) return Promise.reject(new PermanentError(`processor ${settings.id} has no next consumer for traces`));
        return next.traces.consume(data);
      },
    };
    this.logs = {
      consume: (data) => {
        this.enrichAll('logs', data.resourceLogs);
        if (!next.logs) return Promise.reject(new PermanentError(`processor ${settings.id} has no next consumer for logs`));
        return next.logs.consume(data);
      },
    };
  }

  async start(_host?: Host): Promise<void> {}

  /** Nothing is held; forgets the cache. Idempotent, works without start. */
  async shutdown(): Promise<void> {
    this.cache.clear();
  }

  private enrichAll(signal: Signal, groups: readonly { resource?: Resource | null }[]): void {
    const now = this.now();
    let enriched = 0;
    const skipped = new Map<SkipReason, number>();
    // Indexed loops: `for...of` made an iterator result per resource where this runs unoptimised (once per batch).
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      const outcome = g.resource ? this.enrich(g.resource, now) : 'no_pid';
      // After the identity check, which needs the command line as /proc has it: no secret goes further.
      if (g.resource) redactCommandLine(g.resource.attributes);
      if (outcome === 'enriched') enriched++;
      else skipped.set(outcome, (skipped.get(outcome) ?? 0) + 1);
    }
    // Counted once per batch and label, not per resource: prom-client's label lookup is the costlier part.
    const component = this.settings.id;
    if (enriched > 0) this.enriched.inc({ component, signal }, enriched);
    for (const [reason, n] of skipped) this.skipped.inc({ component, signal, reason }, n);
  }

  /** Enriches one resource in place; says what happened. */
  enrich(resource: Resource, now = this.now()): 'enriched' | SkipReason {
    const attributes = (resource.attributes ??= []);
    let pid: unknown;
    let hostName: unknown;
    let exe: unknown;
    let args: unknown;
    // The last of each key wins, read where it is (no array per attribute): every kernel record batch has a resource per process.
    for (let i = 0; i < attributes.length; i++) {
      const kv = attributes[i]!;
      switch (kv.key) {
        case ATTR.containerId:
          return 'has_container_id';
        case ATTR.processPid:
          pid = fromAnyValue(kv.value);
          break;
        case ATTR.hostName:
          hostName = fromAnyValue(kv.value);
          break;
        case ATTR.processExecutableName:
          exe = fromAnyValue(kv.value);
          break;
        case ATTR.processCommandArgs:
          args = fromAnyValue(kv.value);
          break;
      }
    }
    if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return 'no_pid';

    let entry = this.cache.get(pid, now);
    if (!entry) {
      entry = { info: readContainerInfo(pid, this.config.procPath), hostname: null, verdicts: new Map() };
      this.cache.set(pid, entry, now);
    }
    if (!entry.info) return 'no_process';

    if (typeof hostName === 'string' && hostName !== this.hostname) {
      // In a container with its own UTS namespace an SDK reports the container's hostname, which the
      // runtime also puts in the process environment (docker: the short container id; k8s: the pod name).
      if (entry.hostname === null) {
        const environ = readEnviron(pid, this.config.procPath);
        entry.hostname = environ === undefined ? undefined : environVar(environ, 'HOSTNAME');
      }
      if (hostName !== entry.hostname) return 'other_host';
    }

    const commandArgs = Array.isArray(args) ? args.map(String) : undefined;
    const executableName = typeof exe === 'string' ? exe : undefined;
    const sig = `${executableName ?? ''}\0${commandArgs?.join('\0') ?? ''}`;
    let verdict = entry.verdicts.get(sig);
    if (verdict === undefined && !entry.verdicts.has(sig)) {
      verdict = mismatch({ pid, executableName, commandArgs }, this.config.procPath);
      if (entry.verdicts.size < MAX_VERDICTS_PER_PID) entry.verdicts.set(sig, verdict);
      if (verdict) this.settings.logger.debug({ pid, why: verdict }, 'not enriching: the pid is another process here');
    }
    if (verdict) return 'other_process';

    const info = entry.info;
    // The process runs on this kernel (in a container or not), so this host's id is its host's.
    const hostIdAdded = addHostId(resource, this.hostId);
    if (!info.containerId && !info.podUid) return hostIdAdded ? 'enriched' : 'not_in_container';
    const have = new Set(attributes.map((kv) => kv.key));
    const add = (key: string, value: string | undefined) => {
      if (value && !have.has(key)) attributes.push(attr(key, value));
    };
    add(ATTR.containerId, info.containerId);
    add(ATTR.k8sPodUid, info.podUid);
    add(ATTR.k8sPodName, info.podName);
    add(ATTR.k8sNamespaceName, info.namespace);
    return 'enriched';
  }
}
