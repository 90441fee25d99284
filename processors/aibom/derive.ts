import { BoundedMap } from '../../pipeline/bounded-map.js';
import { findAttr } from '../../pipeline/otlp/attributes.js';
import type { KeyValue, ResourceSpans, Span, TracesData } from '../../pipeline/otlp/types.js';
import { ATTR } from '../../pipeline/semconv.js';
import { redactSecrets } from '../../pipeline/redact.js';
import { canonicalView, hostPort, type CanonicalSpan } from '../normalize/index.js';
import { locateId, spanIds, startMicros } from '../../pipeline/otlp/span-view.js';
import type { Entity, EntityAttributes } from './entity.js';
import type { Inventory, Observation } from './inventory.js';
import { readKernelSpan, type KernelSpanFacts } from './kernel-span.js';
import { filePattern, mcpPackage, pathPattern } from './patterns.js';
import { artifactName, CLIENT_SIGNATURES, INSTRUMENTED, providerOfHost, SERVER_SIGNATURES, SHADOW_ROLE } from './shadow.js';
import { IdGenerations } from '../../pipeline/id-table.js';
import { TraceHex } from '../../pipeline/otlp/trace-hex.js';

/** A process the sensor's shadow-AI signatures found: the entities it stands for, and its provider so far. */
interface Shadow {
  client?: Entity;
  server?: Entity;
  provider?: string;
}

/** The entities a span stands for, remembered by span id so kernel spans under it find them. */
interface Owner {
  agent?: Entity;
  tool?: Entity;
  model?: Entity;
  /** Set on a kernel process span: the MCP server (or process) doing the work of `tool`. */
  implementer?: Entity;
  /** That process's arguments: the script it runs is its code, not data it reads. */
  commandArgs?: readonly string[];
}

interface RecentModel {
  generation: number;
  agent: Entity | undefined;
  kind: string;
  provider: string | undefined;
  operation: string | undefined;
  modelName: string | undefined;
  serverAddress: string | undefined;
  serverPort: number | undefined;
  owner: Owner;
}

interface RecentAgent {
  generation: number;
  facts: AgentFacts;
  agent: Entity;
  /** The infrastructure entities it was related to, in the order observed. */
  infrastructure: Entity[];
}

interface RecentTool {
  generation: number;
  agent: Entity | undefined;
  toolType: string | undefined;
  owner: Owner;
}

/** The last connect, TLS or HTTP kernel span per peer address, with what it showed and whom it related. */
interface RecentKernelEndpoint {
  generation: number;
  kind: string;
  peerPort: number | undefined;
  serverAddress: string | undefined;
  urlPath: string | undefined;
  httpMethod: string | undefined;
  actor: Entity;
  tool: Entity | undefined;
  endpoint: Entity;
}

/** What a kernel span's resource (its process) says, read once per resource however many kernel spans it holds. */
interface KernelResource {
  rs: ResourceSpans;
  pid: number;
  /** `aibom.monitor.partial_reason`: the sensor did not watch the process from its start. */
  partialReason: unknown;
}

interface RecentEndpoint {
  generation: number;
  agent: Entity | undefined;
  url: string | undefined;
  serverAddress: string | undefined;
  serverPort: number | undefined;
  endpoint: Entity;
}

/** Distinct (entity, name) pairs remembered per kind of span (model, tool and URL names are the sender's word); then it starts over. */
const MAX_RECENT = 256;

/**
 * The last facts per name and per entity they were seen for (the agent, or a kernel span's actor:
 * agents of one host call the same models and reach the same endpoints, and one record per name
 * alone would change hands at every span), valid while the inventory's generation is the one they
 * were recorded at.
 */
class Recent<R extends { generation: number }> {
  /** By entity, then name: no key string made per span. */
  private readonly byWho = new Map<Entity | undefined, Map<string, R>>();
  private size = 0;
  /**
   * The entity `byWho` was last asked for (null: none since it changed) and its answer: the spans of
   * a request are mostly one agent's, so the outer lookup is mostly this one compare.
   */
  private lastWho: Entity | undefined | null = null;
  private lastByName: Map<string, R> | undefined = undefined;

  get(who: Entity | undefined, name: string, generation: number): R | undefined {
    const r = this.byName(who)?.get(name);
    return r?.generation === generation ? r : undefined;
  }

  set(who: Entity | undefined, name: string, r: R): void {
    let byName = this.byName(who);
    if (!byName?.has(name)) {
      if (this.size >= MAX_RECENT) {
        this.byWho.clear();
        this.size = 0;
        byName = undefined;
      }
      this.size++;
    }
    if (!byName) {
      this.byWho.set(who, (byName = new Map()));
      this.lastWho = null;
    }
    byName.set(name, r);
  }

  private byName(who: Entity | undefined): Map<string, R> | undefined {
    if (who !== this.lastWho) {
      this.lastWho = who;
      this.lastByName = this.byWho.get(who);
    }
    return this.lastByName;
  }
}

/** O_DIRECTORY: a directory opened to list it (interpreters scanning their path), not data read. */
const O_DIRECTORY = 0o200000;

/** Entity property listing why a process behind it was not watched from its start (partial coverage). */
export const PARTIAL_COVERAGE = 'aibom-collector:partial_coverage';

/** Agent span kinds: a resource with one of these is an AI workload. */
const AI_KINDS = new Set(['agent', 'llm', 'tool', 'retriever', 'embedding', 'mcp_client', 'mcp_server']);

/** Names of environment variables that hold API keys (names only are ever read). */
const API_KEY_NAME = /(?:^|_)(?:API_?KEY|ACCESS_KEY(?:_ID)?|SECRET(?:_ACCESS)?_KEY|AUTH_TOKEN|TOKEN)$/;

export interface DeriveOptions {
  mcpCommandPatterns: readonly string[];
  ignorePaths: readonly string[];
  /** Names of the environment variables of `pid`, when readable (never values). */
  environNames: (pid: number) => string[] | undefined;
  /** Span ids remembered for kernel spans arriving later (oldest forgotten first). */
  maxOwners: number;
  /** Asks for the sha256 of the executable process `pid` runs, for the entity `id` (once per entity). */
  hashExecutable: (pid: number, id: string) => void;
}

const str = (a: readonly KeyValue[] | null | undefined, k: string): string | undefined => {
  const v = findAttr(a, k);
  return typeof v === 'string' && v !== '' ? v : undefined;
};


/**
 * Turns spans into observations in the inventory: agents' spans through `canonicalView`, kernel spans
 * (made by correlate) through `readKernelSpan`, each kernel span related to the agent, tool or model
 * span it sits under. Nothing here keeps a reference to the spans.
 */
export class Deriver {
  private readonly owners: IdGenerations<Owner>;
  /** Agent of each process seen exporting GenAI spans; kernel spans of that pid without a known parent. */
  private readonly agentByPid: BoundedMap<number, Entity>;
  private readonly environRead = new Set<number>();
  /**
   * The last LLM/embedding, tool and HTTP span per model, tool and URL name, with what it showed: a
   * span with the same facts while the inventory's generation stands still only adds its sighting,
   * without building, hashing and merging the same key and attributes again (most spans repeat).
   */
  private readonly recentModels = new Recent<RecentModel>();
  private readonly recentAgents = new Recent<RecentAgent>();
  private readonly recentTools = new Recent<RecentTool>();
  private readonly recentEndpoints = new Recent<RecentEndpoint>();
  /** The same for kernel spans: an agent reaches its few endpoints again and again (every LLM call connects). */
  private readonly recentKernelEndpoints = new Recent<RecentKernelEndpoint>();
  /** The MCP command patterns in lower case, as commands are compared. */
  private readonly mcpPatterns: readonly string[];
  /** Process command lines redacted, by command line: an MCP server's process span repeats under every tool call. */
  private readonly redactedCommands = new Map<string, string>();
  /** Processes found by shadow-AI signatures, by pid (bounded like owners). */
  private readonly shadowByPid: BoundedMap<number, Shadow>;

  constructor(
    private readonly inventory: Inventory,
    private readonly options: DeriveOptions,
  ) {
    this.owners = new IdGenerations(options.maxOwners, 8);
    this.agentByPid = new BoundedMap(options.maxOwners);
    this.shadowByPid = new BoundedMap(options.maxOwners);
    this.mcpPatterns = options.mcpCommandPatterns.map((p) => p.toLowerCase());
  }

  consume(data: TracesData): void {
    const kernel: { res: KernelResource; span: Span; facts: KernelSpanFacts }[] = [];
    // Indexed loops: `for...of` made an iterator result per span where this runs unoptimised (once per batch).
    for (let ri = 0; ri < data.resourceSpans.length; ri++) {
      const rs = data.resourceSpans[ri]!;
      let res: KernelResource | undefined;
      let agent: Entity | undefined;
      /** What a span of this resource that shows nothing more stands for: one object for all of them. */
      let agentOwner: Owner | undefined;
      for (let si = 0; si < rs.scopeSpans.length; si++) {
        const ss = rs.scopeSpans[si]!;
        for (let pi = 0; pi < ss.spans.length; pi++) {
          const span = ss.spans[pi]!;
          const facts = readKernelSpan(span, ss.scope?.name);
          if (facts) {
            kernel.push({ res: (res ??= kernelResource(rs)), span, facts });
            continue;
          }
          const view = canonicalView(span);
          if (!view) continue;
          if (!agent && AI_KINDS.has(view.kind)) {
            agent = this.agent(rs, span);
            agentOwner = agent && { agent };
          }
          this.agentSpan(view, span, agent, agentOwner);
        }
      }
    }
    // Process spans first, parents before children (a child of the MCP server nests under the
    // server's span), so the files and connections under them find whom they belong to.
    let todo = kernel.filter((k) => k.facts.kind === 'process');
    while (todo.length > 0) {
      const waiting = new Set(todo.map((k) => spanIds(k.span).spanId));
      const ready = todo.filter((k) => !waiting.has(spanIds(k.span).parentSpanId));
      const now = ready.length > 0 ? ready : todo; // a cycle can only be bad input: take them as they are
      for (const k of now) this.kernelSpan(k.res, k.span, k.facts);
      todo = todo.filter((k) => !now.includes(k));
    }
    for (let i = 0; i < kernel.length; i++) {
      const k = kernel[i]!;
      if (k.facts.kind !== 'process') this.kernelSpan(k.res, k.span, k.facts);
    }
    this.current.span = undefined;
  }

  /** Time and trace id of the span being read, computed once however many entities it shows. */
  private current: { span: Span | undefined; timeMs: number; traceId: string } = { span: undefined, timeMs: 0, traceId: '' };
  private readonly traceHex = new TraceHex();

  private sighting(span: Span): Deriver['current'] {
    const c = this.current;
    if (c.span !== span) {
      c.span = span;
      c.timeMs = Math.floor(startMicros(span) / 1000);
      c.traceId = this.traceHex.of(span);
    }
    return c;
  }

  /** What `observe` gets; the span id (hex) only here, where an entity may be new: a repeated span needs none. */
  private observation(span: Span, o: Omit<Observation, 'timeMs' | 'traceId' | 'spanId'>): Observation {
    const c = this.sighting(span);
    // Spelled out, not spread: a spread of differently shaped inputs was most of the per-span cost.
    return { kind: o.kind, key: o.key, name: o.name, attributes: o.attributes, timeMs: c.timeMs, traceId: c.traceId, spanId: spanIds(span).spanId };
  }

  /** A span that showed `e` as the last span with the same facts did: only its sighting is new. */
  private seenAgain(span: Span, e: Entity): void {
    const c = this.sighting(span);
    this.inventory.seen(e, c.timeMs, c.traceId);
  }

  private remember(span: Span, owner: Owner): void {
    const id = locateId(span, 'spanId');
    this.owners.setAt(id.buf, id.at, id.length, owner);
  }

  /**
   * The agent (a workload exporting GenAI spans) and the infrastructure it runs on. A resource that
   * says what the last one of its service said, while the inventory's generation stands still, only
   * adds the sightings of the entities it showed then (a sender's batches repeat their resource).
   */
  private agent(rs: ResourceSpans, span: Span): Entity | undefined {
    const r = rs.resource?.attributes;
    const facts = agentFacts(r);
    const last = this.recentAgents.get(undefined, facts.serviceName, this.inventory.generation);
    if (last && sameAgentFacts(last.facts, facts)) {
      const c = this.sighting(span);
      this.inventory.seen(last.agent, c.timeMs, c.traceId);
      this.agentProcess(last.agent, facts.pid, span);
      // Reading the process's environment (a pid read for the first time) may have changed entities.
      if (this.inventory.generation === last.generation) for (const e of last.infrastructure) this.inventory.seen(e, c.timeMs, c.traceId);
      else this.infrastructure(span, last.agent, facts);
      return last.agent;
    }
    const attributes: EntityAttributes = { [INSTRUMENTED]: true };
    if (facts.exe) attributes[ATTR.processExecutablePath] = facts.exe;
    if (facts.commandLine !== undefined) attributes[ATTR.processCommandArgs] = [redactSecrets(facts.commandLine)];
    for (let i = 0; i < AGENT_DESCRIBED.length; i++) {
      const v = facts.described[i];
      if (v) attributes[AGENT_DESCRIBED[i]!] = v;
    }
    const key: Record<string, string> = { [ATTR.serviceName]: facts.serviceName };
    if (facts.host) key[ATTR.hostName] = facts.host;
    const agent = this.inventory.observe(this.observation(span, { kind: 'agent', key, name: facts.serviceName, attributes }));
    if (!agent) return undefined;
    this.agentProcess(agent, facts.pid, span);
    const generation = this.inventory.generation;
    const infrastructure = this.infrastructure(span, agent, facts);
    // Remembered only when every entity was stored and related: a repeat then changes nothing but the sightings.
    if (infrastructure && this.inventory.generation === generation) this.recentAgents.set(undefined, facts.serviceName, { generation, facts, agent, infrastructure });
    return agent;
  }

  /** What the agent's process id leads to: kernel spans of that pid, its API-key names, a shadow entity now instrumented. */
  private agentProcess(agent: Entity, pid: number, span: Span): void {
    if (!(pid > 0)) return;
    this.agentByPid.set(pid, agent);
    this.apiKeyNames(pid, agent, span);
    // The process the sensor found as shadow AI now exports its own telemetry: it is instrumented after all.
    const shadow = this.shadowByPid.get(pid);
    for (const e of [shadow?.client, shadow?.server]) if (e && e.attributes[INSTRUMENTED] !== true) this.inventory.annotate(e.id, { [INSTRUMENTED]: true, 'aibom-collector:instrumented_as': [agent.name] });
  }

  /** The infrastructure entities `agent` runs in, in the order observed; undefined when one was not stored or related. */
  private infrastructure(span: Span, agent: Entity, facts: AgentFacts): Entity[] | undefined {
    const out: Entity[] = [];
    let whole = true;
    const run = (key: Record<string, string>, name: string, attributes?: EntityAttributes): Entity | undefined => {
      const e = this.inventory.observe(this.observation(span, { kind: 'infrastructure', key, name, attributes }));
      if (!this.inventory.relate(agent, 'runs_in', e) || !e) whole = false;
      else out.push(e);
      return e;
    };
    const { host, exe, pid } = facts;
    if (host) run({ [ATTR.hostName]: host }, host, { 'aibom-collector:infrastructure': 'host' });
    const container = facts.described[CONTAINER];
    const image = facts.described[IMAGE];
    if (container) run({ [ATTR.containerId]: container }, container.slice(0, 12), { 'aibom-collector:infrastructure': 'container', ...(image ? { 'container.image.name': image } : {}) });
    const pod = facts.described[POD];
    const ns = facts.described[NAMESPACE];
    if (pod) run({ [ATTR.k8sPodName]: pod, [ATTR.k8sNamespaceName]: ns ?? '' }, ns ? `${ns}/${pod}` : pod, { 'aibom-collector:infrastructure': 'pod' });
    if (exe) {
      const executable = run({ [ATTR.processExecutablePath]: exe }, exe, { 'aibom-collector:infrastructure': 'executable' });
      if (executable && pid > 0 && executable.count === 1) this.options.hashExecutable(pid, executable.id);
    }
    return whole ? out : undefined;
  }

  /** Identities an agent holds as API-key environment variables: names only, read once per process. */
  private apiKeyNames(pid: number, agent: Entity, span: Span): void {
    if (this.environRead.has(pid)) return;
    this.environRead.add(pid);
    if (this.environRead.size > this.options.maxOwners) this.environRead.delete(this.environRead.values().next().value!);
    for (const name of this.options.environNames(pid) ?? []) {
      if (!API_KEY_NAME.test(name)) continue;
      const identity = this.inventory.observe(this.observation(span, { kind: 'identity', key: { 'aibom.identity.env_name': name }, name: `env:${name}`, attributes: { 'aibom-collector:identity': 'api_key_env' } }));
      this.inventory.relate(agent, 'runs_as', identity);
    }
  }

  /**
   * Remembers what the span stands for under its id, for the kernel spans correlate places under it.
   * `agentOwner` is what a span of its resource that shows nothing more stands for (undefined: not an
   * AI workload, so nothing to remember).
   */
  private agentSpan(view: CanonicalSpan, span: Span, agent: Entity | undefined, agentOwner: Owner | undefined): void {
    let owner = agentOwner;
    switch (view.kind) {
      case 'llm':
      case 'embedding':
        owner = this.modelSpan(view, span, agent) ?? agentOwner;
        break;
      case 'tool':
        owner = this.toolSpan(view, span, agent) ?? agentOwner;
        break;
      case 'retriever': {
        if (!view.dataSourceId) break;
        const ds = this.inventory.observe(this.observation(span, { kind: 'data_source', key: { 'gen_ai.data_source.id': view.dataSourceId }, name: view.dataSourceId, attributes: { 'aibom-collector:data_source': 'retriever' } }));
        this.inventory.relate(agent, 'reads', ds);
        break;
      }
      case 'mcp_client':
      case 'mcp_server':
        owner = { agent };
        this.mcpSpan(view, span, agent, owner);
        break;
      case 'http':
        this.httpSpan(view, span, agent);
        break;
      default:
        break;
    }
    if (owner) this.remember(span, owner);
  }

  /** An LLM or embedding call: the model it asked for; undefined when it names none (or the inventory is full). */
  private modelSpan(view: CanonicalSpan, span: Span, agent: Entity | undefined): Owner | undefined {
    const name = view.requestModel ?? view.modelName;
    if (!name) return undefined;
    const last = this.recentModels.get(agent, name, this.inventory.generation);
    if (last && last.agent === agent && last.kind === view.kind && last.provider === view.provider && last.operation === view.operation && last.modelName === view.modelName && last.serverAddress === view.serverAddress && last.serverPort === view.serverPort) {
      this.seenAgain(span, last.owner.model!);
      return last.owner;
    }
    const provider = view.provider ?? 'unknown';
    const attributes: EntityAttributes = { 'gen_ai.operation.name': [view.operation ?? (view.kind === 'llm' ? 'chat' : 'embeddings')] };
    if (view.modelName) attributes['gen_ai.response.model'] = [view.modelName];
    if (view.serverAddress) attributes['aibom-collector:endpoint'] = [view.serverPort ? `${view.serverAddress}:${view.serverPort}` : view.serverAddress];
    const model = this.inventory.observe(this.observation(span, { kind: 'model', key: { 'gen_ai.provider.name': provider, 'gen_ai.request.model': name }, name, attributes }));
    if (!model) return undefined;
    const owner: Owner = { agent, model };
    if (this.inventory.relate(agent, 'uses', model)) {
      const { kind, provider: p, operation, modelName, serverAddress, serverPort } = view;
      this.recentModels.set(agent, name, { generation: this.inventory.generation, agent, kind, provider: p, operation, modelName, serverAddress, serverPort, owner });
    }
    return owner;
  }

  /** A tool call: the tool; undefined when the span names none (or the inventory is full). */
  private toolSpan(view: CanonicalSpan, span: Span, agent: Entity | undefined): Owner | undefined {
    const name = view.toolName;
    if (!name) return undefined;
    const last = this.recentTools.get(agent, name, this.inventory.generation);
    if (last && last.agent === agent && last.toolType === view.toolType) {
      this.seenAgain(span, last.owner.tool!);
      return last.owner;
    }
    const attributes: EntityAttributes = {};
    if (view.toolType) attributes['gen_ai.tool.type'] = view.toolType;
    if (agent) attributes['aibom-collector:called_by'] = [agent.name];
    const tool = this.inventory.observe(this.observation(span, { kind: 'tool', key: { 'gen_ai.tool.name': name }, name, attributes }));
    if (!tool) return undefined;
    const owner: Owner = { agent, tool };
    if (this.inventory.relate(agent, 'uses', tool)) this.recentTools.set(agent, name, { generation: this.inventory.generation, agent, toolType: view.toolType, owner });
    return owner;
  }

  /** An agent's HTTP client span: the endpoint it reached. */
  private httpSpan(view: CanonicalSpan, span: Span, agent: Entity | undefined): void {
    const { url, serverAddress, serverPort } = view;
    const name = url ?? serverAddress;
    if (!name) return;
    const last = this.recentEndpoints.get(agent, name, this.inventory.generation);
    if (last && last.agent === agent && last.url === url && last.serverAddress === serverAddress && last.serverPort === serverPort) {
      this.seenAgain(span, last.endpoint);
      return;
    }
    const ep = url ? hostPort(url) : { host: serverAddress, port: serverPort };
    if (!ep.host) return;
    const path = url ? safePath(url) : undefined;
    const endpoint = this.endpoint(span, ep.host, ep.port, { ...(path ? { 'url.path': [pathPattern(path)] } : {}), ...(url?.startsWith('https:') ? { 'aibom-collector:tls': true } : {}) });
    if (endpoint && this.inventory.relate(agent, 'reaches', endpoint)) this.recentEndpoints.set(agent, name, { generation: this.inventory.generation, agent, url, serverAddress, serverPort, endpoint });
  }

  /** MCP semantic-convention spans: the server they name exposes the tool they call. */
  private mcpSpan(view: CanonicalSpan, span: Span, agent: Entity | undefined, owner: Owner): void {
    const remote = view.serverAddress && view.networkTransport !== 'pipe';
    const key: Record<string, string | number> | undefined = remote ? { 'server.address': view.serverAddress!, 'server.port': view.serverPort ?? 0 } : view.kind === 'mcp_server' && agent ? { 'service.name': agent.name } : undefined;
    if (!key) return;
    const name = remote ? `${view.serverAddress}${view.serverPort ? `:${view.serverPort}` : ''}` : agent!.name;
    const server = this.inventory.observe(this.observation(span, { kind: 'mcp_server', key, name, attributes: { 'network.transport': view.networkTransport ?? (remote ? 'tcp' : 'pipe') } }));
    owner.implementer = server;
    if (!view.toolName) return;
    const tool = this.inventory.observe(this.observation(span, { kind: 'tool', key: { 'gen_ai.tool.name': view.toolName }, name: view.toolName, attributes: { 'gen_ai.tool.type': 'extension' } }));
    owner.tool = tool;
    this.inventory.relate(tool, 'implemented_by', server);
    this.inventory.relate(server, 'exposes', tool);
  }

  private endpoint(span: Span, rawAddress: string, port: number | undefined, attributes: EntityAttributes): Entity | undefined {
    // An IPv4 peer of a dual-stack socket (::ffff:127.0.0.1) is that IPv4 address.
    const address = rawAddress.startsWith('::ffff:') && rawAddress.includes('.') ? rawAddress.slice(7) : rawAddress;
    const key: Record<string, string | number> = { 'server.address': address };
    if (port) key['server.port'] = port;
    return this.inventory.observe(this.observation(span, { kind: 'endpoint', key, name: port ? `${address}:${port}` : address, attributes }));
  }

  private kernelSpan(res: KernelResource, span: Span, k: KernelSpanFacts): void {
    const parentId = locateId(span, 'parentSpanId');
    const parent = this.owners.getAt(parentId.buf, parentId.at, parentId.length);
    const pid = res.pid;
    const agent = parent?.agent ?? this.agentByPid.get(pid);
    const actor = parent?.implementer ?? parent?.tool ?? parent?.model ?? agent;
    // A process the sensor did not see from its start (receiver/ebpf coverage facts): what the inventory
    // says about the agent or MCP server it ran is partial, with why (Kubescape's "partial" profile).
    const partial = res.partialReason;
    const partialCoverage = typeof partial === 'string' ? { [PARTIAL_COVERAGE]: [partial] } : undefined;
    const self = partialCoverage && this.agentByPid.get(pid);
    if (self) this.inventory.annotate(self.id, partialCoverage);
    // An agent exporting GenAI spans here is in the BOM already, instrumented: its model calls are no shadow AI.
    if (pid > 0 && !agent && (k.shadowSignature !== undefined || this.shadowByPid.has(pid))) this.shadowSpan(res.rs, span, k, pid);
    switch (k.kind) {
      case 'process':
        this.processSpan(span, k, parent, agent);
        if (partialCoverage && k.pid === pid) {
          const id = locateId(span, 'spanId');
          const implementer = this.owners.getAt(id.buf, id.at, id.length)?.implementer;
          if (implementer) this.inventory.annotate(implementer.id, partialCoverage);
        }
        return;
      case 'open':
        this.open(span, k, parent, agent);
        return;
      case 'connect':
      case 'http':
      case 'tls': {
        if (!k.peerAddress || !actor) return;
        const tool = parent?.tool && actor !== parent.tool ? parent.tool : undefined;
        const last = this.recentKernelEndpoints.get(actor, k.peerAddress, this.inventory.generation);
        if (last && last.actor === actor && last.tool === tool && last.kind === k.kind && last.peerPort === k.peerPort && last.serverAddress === k.serverAddress && last.urlPath === k.urlPath && last.httpMethod === k.httpMethod) {
          this.seenAgain(span, last.endpoint);
          return;
        }
        const attributes: EntityAttributes = {};
        if (k.serverAddress && k.serverAddress !== k.peerAddress) attributes['aibom-collector:host_header'] = [k.serverAddress];
        if (k.urlPath) attributes['url.path'] = [pathPattern(k.urlPath)];
        if (k.httpMethod) attributes['http.request.method'] = [k.httpMethod];
        if (k.kind === 'tls') attributes['aibom-collector:tls'] = true;
        const endpoint = this.endpoint(span, k.peerAddress, k.peerPort, attributes);
        // Remembered only when both relations hold: a span with the same facts then changes nothing but the sighting.
        const toActor = this.inventory.relate(actor, 'reaches', endpoint);
        const toTool = this.inventory.relate(tool, 'reaches', endpoint);
        if (endpoint && toActor && toTool) {
          const { kind, peerPort, serverAddress, urlPath, httpMethod } = k;
          this.recentKernelEndpoints.set(actor, k.peerAddress, { generation: this.inventory.generation, kind, peerPort, serverAddress, urlPath, httpMethod, actor, tool, endpoint });
        }
        return;
      }
      case 'dns': {
        if (!k.dnsName || !actor) return;
        this.inventory.relate(actor, 'reaches', this.endpoint(span, k.dnsName, undefined, { 'aibom-collector:dns': true }));
        return;
      }
      default:
        return;
    }
  }

  /**
   * Shadow AI: a process the sensor's signatures found (a provider DNS name or an inference API request:
   * a client; a model artifact opened by a listener or a known server executable: a model server). Each
   * is an entity with `instrumented: false` and its evidence (process, endpoints, paths, models, ports);
   * later kernel spans of the same process add to it.
   */
  private shadowSpan(rs: ResourceSpans, span: Span, k: KernelSpanFacts, pid: number): void {
    const r = rs.resource?.attributes;
    let sh = this.shadowByPid.get(pid);
    const sig = k.shadowSignature;
    if (sig && ((CLIENT_SIGNATURES.has(sig) && !sh?.client) || (SERVER_SIGNATURES.has(sig) && !sh?.server))) {
      if (!sh) {
        sh = {};
        this.shadowByPid.set(pid, sh);
      }
      const exe = str(r, ATTR.processExecutablePath) ?? k.executable ?? str(r, ATTR.processExecutableName) ?? 'unknown';
      const args = findAttr(r, ATTR.processCommandArgs);
      const command = Array.isArray(args) ? redactSecrets(args.map(String).join(' ')) : exe;
      const host = str(r, ATTR.hostName);
      const attributes: EntityAttributes = { [INSTRUMENTED]: this.agentByPid.has(pid), [ATTR.processExecutablePath]: exe, [ATTR.processCommandArgs]: [command], [ATTR.processPid]: [String(pid)], [ATTR.shadowSignature]: [sig] };
      for (const key of [ATTR.containerId, ATTR.k8sPodName, ATTR.k8sNamespaceName]) {
        const v = str(r, key);
        if (v) attributes[key] = v;
      }
      if (CLIENT_SIGNATURES.has(sig)) {
        const key: Record<string, string> = { 'aibom.shadow.role': 'client', [ATTR.processExecutablePath]: exe, [ATTR.processCommandArgs]: command };
        if (host) key[ATTR.hostName] = host;
        sh.client = this.inventory.observe(this.observation(span, { kind: 'agent', key, name: command.length > 120 ? `${command.slice(0, 119)}…` : command, attributes: { ...attributes, [SHADOW_ROLE]: 'client' } }));
      } else {
        // What a model server serves: its artifact, or (a known server executable) the executable itself.
        const artifact = sig === 'model_artifact' ? k.filePath : undefined;
        const key: Record<string, string> = { 'gen_ai.provider.name': 'self_hosted', ...(artifact ? { 'aibom.model.artifact': artifact } : { [ATTR.processExecutablePath]: exe }) };
        if (host) key[ATTR.hostName] = host;
        sh.server = this.inventory.observe(this.observation(span, { kind: 'model', key, name: artifact ? artifactName(artifact) : artifactName(exe), attributes: { ...attributes, [SHADOW_ROLE]: 'model_server' } }));
      }
    }
    if (!sh) return;
    if (sh.server) this.shadowServerSpan(span, k, sh.server, pid);
    if (sh.client) this.shadowClientSpan(span, k, sh, sh.client, pid);
  }

  private shadowServerSpan(span: Span, k: KernelSpanFacts, server: Entity, pid: number): void {
    const attributes: EntityAttributes = { [ATTR.processPid]: [String(pid)] };
    if (k.shadowSignature) attributes[ATTR.shadowSignature] = [k.shadowSignature];
    if (k.kind === 'open' && k.shadowSignature === 'model_artifact' && k.filePath) attributes['aibom.model.artifact'] = [k.filePath];
    if (k.kind === 'accept' && k.localPort) attributes[ATTR.serverPort] = [String(k.localPort)];
    this.inventory.observe(this.observation(span, { kind: server.kind, key: server.key, name: server.name, attributes }));
  }

  private shadowClientSpan(span: Span, k: KernelSpanFacts, sh: Shadow, client: Entity, pid: number): void {
    const attributes: EntityAttributes = { [ATTR.processPid]: [String(pid)] };
    if (k.shadowSignature) attributes[ATTR.shadowSignature] = [k.shadowSignature];
    let endpoint: Entity | undefined;
    if (k.kind === 'dns' && k.dnsName && k.shadowSignature === 'provider_dns') {
      sh.provider ??= providerOfHost(k.dnsName);
      attributes[ATTR.serverAddress] = [k.dnsName];
      endpoint = this.endpoint(span, k.dnsName, undefined, { 'aibom-collector:dns': true });
    } else if ((k.kind === 'http' || k.kind === 'tls') && k.httpMethod) {
      // The Host header names the endpoint (TLS events carry no socket address); else the peer.
      const host = k.serverAddress ?? k.peerAddress;
      if (host) {
        sh.provider ??= providerOfHost(host);
        attributes[ATTR.serverAddress] = [host];
        const pathAttr: EntityAttributes = k.urlPath ? { 'url.path': [pathPattern(k.urlPath)] } : {};
        endpoint = this.endpoint(span, host, k.serverAddress ? k.serverPort : k.peerPort, { ...pathAttr, ...(k.kind === 'tls' ? { 'aibom-collector:tls': true } : {}) });
      }
      if (k.urlPath) attributes['url.path'] = [pathPattern(k.urlPath)];
    }
    if (k.requestModel) attributes['gen_ai.request.model'] = [k.requestModel];
    this.inventory.observe(this.observation(span, { kind: 'agent', key: client.key, name: client.name, attributes }));
    this.inventory.relate(client, 'reaches', endpoint);
    if (k.requestModel) {
      const model = this.inventory.observe(this.observation(span, { kind: 'model', key: { 'gen_ai.provider.name': sh.provider ?? 'unknown', 'gen_ai.request.model': k.requestModel }, name: k.requestModel, attributes: { 'gen_ai.operation.name': [k.urlPath?.includes('embed') ? 'embeddings' : 'chat'] } }));
      this.inventory.relate(client, 'uses', model);
    }
  }

  /** Another process working under a tool call: an MCP stdio server, or a process the tool runs. */
  private processSpan(span: Span, k: KernelSpanFacts, parent: Owner | undefined, agent: Entity | undefined): void {
    const args = k.commandArgs ?? [];
    const owner: Owner = { ...parent, agent, commandArgs: args };
    const command = this.redactedCommand(args.join(' '));
    const tool = parent?.tool;
    if (tool && command) {
      const lower = command.toLowerCase();
      const mcp = this.mcpPatterns.some((p) => lower.includes(p));
      const attributes: EntityAttributes = { 'process.command_args': [command] };
      if (k.executable) attributes[ATTR.processExecutablePath] = k.executable;
      let implementer: Entity | undefined;
      if (mcp) {
        const pkg = mcpPackage(args);
        implementer = this.inventory.observe(this.observation(span, { kind: 'mcp_server', key: { 'aibom.mcp.command': command }, name: pkg, attributes: { ...attributes, 'network.transport': 'pipe', 'aibom-collector:package': pkg } }));
        this.inventory.relate(implementer, 'exposes', tool);
      } else if (k.executable) {
        implementer = this.inventory.observe(this.observation(span, { kind: 'infrastructure', key: { [ATTR.processExecutablePath]: k.executable }, name: k.executable, attributes: { ...attributes, 'aibom-collector:infrastructure': 'executable' } }));
        if (implementer && k.pid && implementer.count === 1) this.options.hashExecutable(k.pid, implementer.id);
      }
      this.inventory.relate(tool, 'implemented_by', implementer);
      if (tool.attributes['gen_ai.tool.type'] === undefined && mcp) this.inventory.annotate(tool.id, { 'gen_ai.tool.type': 'extension' });
      owner.implementer = implementer;
    }
    this.remember(span, owner);
  }

  /** `redactSecrets` of a command line, remembered for the few command lines an agent's processes have. */
  private redactedCommand(line: string): string {
    let out = this.redactedCommands.get(line);
    if (out === undefined) {
      if (this.redactedCommands.size >= MAX_RECENT) this.redactedCommands.clear();
      out = redactSecrets(line);
      this.redactedCommands.set(line, out);
    }
    return out;
  }

  private open(span: Span, k: KernelSpanFacts, parent: Owner | undefined, agent: Entity | undefined): void {
    const path = k.filePath ?? (k.fileDirectory ? `${k.fileDirectory}/*` : undefined);
    if (!path || (k.fileResult !== undefined && k.fileResult < 0)) return;
    if (k.credential) {
      const identity = this.inventory.observe(this.observation(span, { kind: 'identity', key: { 'file.path': path }, name: path, attributes: { 'aibom-collector:identity': 'credential_file' } }));
      this.inventory.relate(agent, 'runs_as', identity);
      if (parent?.tool) this.inventory.relate(parent.tool, 'reads', identity);
      return;
    }
    // Data sources are what tools read; the runtime's own files are not.
    const reader = parent?.tool;
    if (!reader || this.options.ignorePaths.some((p) => path.includes(p))) return;
    if (k.fileOpenFlags !== undefined && (k.fileOpenFlags & O_DIRECTORY) !== 0) return;
    if (parent?.commandArgs?.includes(path)) return;
    const pattern = filePattern(path);
    const ds = this.inventory.observe(this.observation(span, { kind: 'data_source', key: { 'aibom.file.pattern': pattern }, name: pattern, attributes: { 'aibom-collector:data_source': 'file', 'file.path': [path] } }));
    this.inventory.relate(reader, 'reads', ds);
    if (parent?.implementer) this.inventory.relate(parent.implementer, 'reads', ds);
  }
}

/** Resource attributes an agent entity describes itself with besides its key, executable and command line. */
const AGENT_DESCRIBED = [ATTR.containerId, ATTR.k8sPodName, ATTR.k8sNamespaceName, 'container.image.name', 'k8s.node.name', 'telemetry.sdk.language', 'service.version'] as const;
const CONTAINER = AGENT_DESCRIBED.indexOf(ATTR.containerId);
const POD = AGENT_DESCRIBED.indexOf(ATTR.k8sPodName);
const NAMESPACE = AGENT_DESCRIBED.indexOf(ATTR.k8sNamespaceName);
const IMAGE = AGENT_DESCRIBED.indexOf('container.image.name');

/** Everything `Deriver.agent` derives the agent and its infrastructure from, read from a resource once. */
interface AgentFacts {
  serviceName: string;
  host: string | undefined;
  exe: string | undefined;
  /** `process.command_args` joined, before redaction (undefined: not a list). */
  commandLine: string | undefined;
  /** AGENT_DESCRIBED's values, by index. */
  described: (string | undefined)[];
  pid: number;
}

function agentFacts(r: readonly KeyValue[] | null | undefined): AgentFacts {
  const args = findAttr(r, ATTR.processCommandArgs);
  return {
    serviceName: str(r, ATTR.serviceName) ?? 'unknown_service',
    host: str(r, ATTR.hostName),
    exe: str(r, ATTR.processExecutablePath),
    commandLine: Array.isArray(args) ? args.map(String).join(' ') : undefined,
    described: AGENT_DESCRIBED.map((k) => str(r, k)),
    pid: Number(findAttr(r, ATTR.processPid) ?? 0),
  };
}

function sameAgentFacts(a: AgentFacts, b: AgentFacts): boolean {
  if (a.serviceName !== b.serviceName || a.host !== b.host || a.exe !== b.exe || a.commandLine !== b.commandLine || a.pid !== b.pid) return false;
  for (let i = 0; i < a.described.length; i++) if (a.described[i] !== b.described[i]) return false;
  return true;
}

function kernelResource(rs: ResourceSpans): KernelResource {
  const r = rs.resource?.attributes;
  return { rs, pid: Number(findAttr(r, ATTR.processPid) ?? 0), partialReason: findAttr(r, ATTR.monitorPartialReason) };
}

/** The path of a URL without query or fragment (they may carry secrets). */
function safePath(url: string): string | undefined {
  try {
    return new URL(url).pathname;
  } catch {
    return undefined;
  }
}
