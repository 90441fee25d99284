import { ATTR } from '../../pipeline/semconv.js';
import { redactSecrets } from '../../pipeline/redact.js';
import { entityId } from '../aibom/entity.js';
import { mcpPackage, pathPattern } from '../aibom/patterns.js';
import type { ComponentOf, Fact, Observation } from './facts.js';
import { rareOf, type SpanRecord } from './span-record.js';
import { toolArguments } from './tool-arguments.js';
import { parentOf, type OpenTrace } from './trace-buffer.js';

export interface ObserveOptions {
  mcpCommandPatterns: readonly string[];
  ignorePaths: readonly string[];
  isSensitive: (path: string) => boolean;
}

/** O_DIRECTORY: a directory opened to list it (interpreters scanning their path), not a file read. */
const O_DIRECTORY = 0o200000;
const MAX_DEPTH = 64;

/** Components are AI-BOM entities: the same key, so the same id as in `GET /v1/aibom`. */
export function agentOf(r: SpanRecord): ComponentOf {
  const res = r.resource;
  if (!res.agent) {
    const key: Record<string, string> = { [ATTR.serviceName]: res.serviceName };
    if (res.hostName) key[ATTR.hostName] = res.hostName;
    res.agent = { id: entityId('agent', key), kind: 'agent', name: res.serviceName };
  }
  return res.agent;
}

export function toolOf(name: string): ComponentOf {
  return { id: entityId('tool', { 'gen_ai.tool.name': name }), kind: 'tool', name };
}

function modelOf(r: SpanRecord): ComponentOf | undefined {
  const name = r.view?.requestModel ?? r.view?.modelName;
  if (!name) return undefined;
  const provider = r.view?.provider ?? 'unknown';
  // The resource's last model: an agent's spans name one or two, so most spans find theirs here.
  const last = r.resource.model;
  if (last && last.component.name === name && last.provider === provider) return last.component;
  const component: ComponentOf = { id: entityId('model', { 'gen_ai.provider.name': provider, 'gen_ai.request.model': name }), kind: 'model', name };
  r.resource.model = { provider, component };
  return component;
}

/** The MCP stdio server a kernel process span stands for, when its command line says so (as `aibom` decides). */
export function mcpServerOf(r: SpanRecord, patterns: readonly string[]): ComponentOf | undefined {
  if (r.rare?.mcp === undefined) {
    const args = r.kernel?.kind === 'process' ? r.kernel.commandArgs : undefined;
    const command = args && args.length > 0 ? redactSecrets(args.join(' ')) : '';
    const lower = command.toLowerCase();
    rareOf(r).mcp = command && patterns.some((p) => lower.includes(p.toLowerCase())) ? { id: entityId('mcp_server', { 'aibom.mcp.command': command }), kind: 'mcp_server', name: mcpPackage(args!) } : null;
  }
  return r.rare!.mcp ?? undefined;
}

/** The first agent span of the trace names the agent (kernel spans carry the process, not the agent). */
export function traceAgent(t: OpenTrace): ComponentOf | undefined {
  if (!t.agent) for (let i = 0; i < t.size; i++) if (t.records[i]!.view) return (t.agent = agentOf(t.records[i]!));
  return t.agent;
}

/** Nearest span up the parent chain for which `pick` answers, within the trace. */
export function ancestor<T>(t: OpenTrace, r: SpanRecord, pick: (a: SpanRecord) => T | undefined): T | undefined {
  let cur = parentOf(t, r);
  for (let i = 0; cur && i < MAX_DEPTH; i++) {
    const v = pick(cur);
    if (v !== undefined) return v;
    cur = parentOf(t, cur);
  }
  return undefined;
}

/** What `ownerOf` found: read by `kernelObservations` at once, then overwritten (one object, not one per span). */
interface Owner {
  owner: ComponentOf;
  agent: ComponentOf;
  process: SpanRecord | undefined;
}
const found: Owner = { owner: undefined as unknown as ComponentOf, agent: undefined as unknown as ComponentOf, process: undefined };

/**
 * Whose a kernel span's activity is: the MCP server process it ran in, else the tool call, else the
 * LLM call (its model endpoint), else the agent. Undefined when no agent span of the trace is known.
 * The walk up is `ancestor`'s, written out: a closure and a result object per kernel span were most of
 * what judging one allocated.
 */
function ownerOf(t: OpenTrace, r: SpanRecord, o: ObserveOptions): Owner | undefined {
  const agent = traceAgent(t);
  if (!agent) return undefined;
  let process: SpanRecord | undefined;
  let owner: ComponentOf | undefined;
  let a = parentOf(t, r);
  for (let i = 0; a && i < MAX_DEPTH; i++) {
    if (a.kernel?.kind === 'process') {
      process ??= a;
      owner = mcpServerOf(a, o.mcpCommandPatterns);
    } else if (a.view?.kind === 'tool' && a.view.toolName) owner = toolOf(a.view.toolName);
    else if (a.view?.kind === 'llm') owner = modelOf(a);
    if (owner !== undefined) break;
    a = parentOf(t, a);
  }
  found.owner = owner ?? agent;
  found.agent = agent;
  found.process = process;
  return found;
}

/** `::ffff:127.0.0.1` is 127.0.0.1 (a dual-stack socket's IPv4 peer), as in the AI-BOM. */
function address(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/** The observations of a span that shows nothing: one list, never written to. */
const NONE: readonly Observation[] = [];

/**
 * What an agent span shows its components doing: read from the span alone, so it is judged as it
 * arrives. The lists are read, never written to, so an LLM span's (the agent calls the model, the
 * model answers as a version) is the one its resource made last for the same model and version: an
 * agent's LLM spans name one or two.
 */
export function agentObservations(r: SpanRecord): readonly Observation[] {
  const v = r.view;
  if (!v) return NONE;
  const agent = agentOf(r);
  if (v.kind === 'llm') {
    const model = modelOf(r);
    if (!model) return NONE;
    const last = r.resource.llm;
    if (last && last.model === model && last.version === v.modelName) return last.observations;
    const out: Observation[] = [{ component: agent, fact: { type: 'model', value: model.name }, kernel: false }];
    if (v.modelName) out.push({ component: model, fact: { type: 'model_version', value: v.modelName }, kernel: false });
    r.resource.llm = { model, version: v.modelName, observations: out };
    return out;
  }
  if (v.kind === 'tool' && v.toolName) {
    const out: Observation[] = [{ component: agent, fact: { type: 'tool', value: v.toolName }, kernel: false }];
    if (v.toolArguments !== undefined) out.push({ component: toolOf(v.toolName), fact: { type: 'arguments', args: toolArguments(v.toolArguments) }, kernel: false });
    return out;
  }
  return NONE;
}

/** What a kernel span shows its owner doing: needs the trace (whose span it ran under), so it is judged when the trace is evaluated. */
export function kernelObservations(t: OpenTrace, r: SpanRecord, o: ObserveOptions): readonly Observation[] {
  const k = r.kernel!;
  const who = ownerOf(t, r, o);
  if (!who) return NONE;
  let fact: Fact | undefined;
  switch (k.kind) {
    case 'process': {
      // An MCP server working under a tool call serves that tool.
      const server = mcpServerOf(r, o.mcpCommandPatterns);
      const tool = server && ancestor(t, r, (a) => (a.view?.kind === 'tool' ? a.view.toolName : undefined));
      if (server && tool) return [{ component: server, fact: { type: 'mcp_tool', value: tool }, kernel: true, ...(r.rare?.partialReason ? { partialReason: r.rare.partialReason } : {}) }];
      // Another process the owner started here: what it runs is an executable of the owner. A process
      // already running (an MCP server the agent started at its start-up, seen between tool calls) only
      // works here: its image was not run now, and when its start was seen depends on timing.
      if (k.executable && k.execUnderParent) fact = { type: 'executable', value: k.executable };
      break;
    }
    case 'exec':
      if (k.executable) fact = { type: 'executable', value: k.executable };
      break;
    case 'open': {
      const path = k.filePath ?? (k.fileDirectory ? `${k.fileDirectory}/*` : undefined);
      if (!path || (k.fileResult !== undefined && k.fileResult < 0)) break;
      if (k.credential || o.isSensitive(path)) fact = { type: 'credential', value: path };
      else if (o.ignorePaths.some((p) => path.includes(p))) break;
      else if (k.fileOpenFlags !== undefined && (k.fileOpenFlags & O_DIRECTORY) !== 0) break;
      else if (who.process?.kernel?.commandArgs?.includes(path)) break; // the server's own script is its code
      else fact = { type: 'file', value: path };
      break;
    }
    case 'connect':
      if (k.peerAddress) fact = { type: 'egress', value: `${address(k.peerAddress)}:${k.peerPort ?? 0}`, dns: false };
      break;
    case 'dns':
      if (k.dnsName) fact = { type: 'egress', value: `dns:${k.dnsName.replace(/\.$/, '').toLowerCase()}`, dns: true };
      break;
    case 'http':
      if (k.peerAddress && k.bodySize !== undefined && Number.isFinite(k.bodySize)) {
        fact = { type: 'payload', destination: `${address(k.peerAddress)}:${k.peerPort ?? 0}${k.urlPath ? pathPattern(k.urlPath) : ''}`, bytes: k.bodySize };
      }
      break;
    default:
      break;
  }
  if (fact === undefined) return NONE;
  // At most one fact per kernel span. The keys as a spread of the optional ones gave them (same order, absent when unset).
  const obs: Observation = { component: who.owner, fact, kernel: true };
  const partialReason = r.rare?.partialReason;
  if (partialReason) obs.partialReason = partialReason;
  if (who.owner.id !== who.agent.id) obs.agent = who.agent;
  return [obs];
}
