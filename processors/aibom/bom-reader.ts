import { parse as parseYaml } from 'yaml';
import type { EntityKind } from './entity.js';
import { NS } from './cyclonedx.js';

/**
 * One AI-BOM, whoever wrote it, reduced to what a diff compares: named items per kind, with the
 * facts `changed` findings need (model provider, a server's tools, a tool's server and endpoints).
 */
export interface BomItem {
  kind: EntityKind;
  name: string;
  provider?: string;
  version?: string;
  /** Endpoints as written (URLs or host:port). For a tool: those it reaches. */
  endpoints: string[];
  /** MCP server: the tools it exposes. */
  tools: string[];
  /** Tool: the MCP servers implementing it. */
  servers: string[];
  /** MCP server: its command line, when known (matching a declared name against it). */
  command?: string;
  evidence: string[];
  firstSpan?: { traceId: string; spanId: string };
  /** Its bom-ref (for our own BOMs: the entity id). */
  ref?: string;
}

export interface Bom {
  format: 'cyclonedx' | 'aibom-yaml';
  specVersion?: string;
  /** Who wrote it: the first metadata tool (cdxgen, aibom-collector, snyk...), when said. */
  producer?: string;
  items: BomItem[];
}

export class BomFormatError extends Error {
  override readonly name = 'BomFormatError';
}

const SUPPORTED_SPECS = ['1.4', '1.5', '1.6', '1.7'];

type Json = Record<string, unknown>;
type Prop = { name?: unknown; value?: unknown };

function props(x: Json): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const p of (Array.isArray(x.properties) ? x.properties : []) as Prop[]) {
    if (typeof p?.name !== 'string') continue;
    out.set(p.name, [...(out.get(p.name) ?? []), String(p.value ?? '')]);
  }
  return out;
}

const one = (p: Map<string, string[]>, k: string): string | undefined => p.get(k)?.[0];

function item(kind: EntityKind, name: string, extra: Partial<BomItem> = {}): BomItem {
  return { kind, name, endpoints: [], tools: [], servers: [], evidence: [], ...extra };
}

/** Reads CycloneDX JSON (1.4–1.7: cdxgen, Snyk, k8s-aibom, ours) or our YAML format. */
export function readBom(text: string, source: string): Bom {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new BomFormatError(`${source}: not valid JSON: ${(err as Error).message}`);
    }
    return readCycloneDx(doc as Json, source);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new BomFormatError(`${source}: not valid JSON or YAML: ${(err as Error).message}`);
  }
  if (doc && typeof doc === 'object' && (doc as Json).bomFormat === 'CycloneDX') return readCycloneDx(doc as Json, source);
  return readYaml(doc, source);
}

/** A CycloneDX document already parsed (our own BOM, in continuous mode). */
export function readCycloneDx(doc: Json, source: string): Bom {
  if (doc?.bomFormat !== 'CycloneDX') throw new BomFormatError(`${source}: not a CycloneDX BOM (bomFormat ${JSON.stringify(doc?.bomFormat)}) nor our YAML format`);
  const spec = String(doc.specVersion ?? '');
  if (!SUPPORTED_SPECS.includes(spec)) throw new BomFormatError(`${source}: CycloneDX specVersion ${JSON.stringify(doc.specVersion)} is not supported (${SUPPORTED_SPECS.join(', ')})`);
  const meta = (doc.metadata ?? {}) as Json;
  const tools = meta.tools as Json | Json[] | undefined;
  const toolList = (Array.isArray(tools) ? tools : ((tools?.components as Json[] | undefined) ?? [])) as Json[];
  const producer = toolList[0]?.name as string | undefined;
  const byRef = new Map<string, BomItem>();
  const items: BomItem[] = [];
  const add = (ref: unknown, it: BomItem) => {
    items.push(it);
    if (typeof ref === 'string') {
      it.ref = ref;
      byRef.set(ref, it);
    }
  };
  const serviceRefOf = new Map<BomItem, string>();

  const subject = meta.component as Json | undefined;
  const k8sCategory = subject ? (one(props(subject), 'k8s-aibom:workload:category') ?? one(props(subject), 'aibom.workload.category')) : undefined;
  if (subject && k8sCategory === 'agent') add(subject['bom-ref'], item('agent', String(one(props(subject), 'k8s-aibom:workload:name') ?? subject.name ?? '')));

  for (const c of flatten((doc.components ?? []) as Json[])) {
    const p = props(c);
    const ours = (one(p, `${NS}:kind`) as EntityKind | undefined) ?? snykKind(c['bom-ref']);
    const name = String(c.name ?? '');
    const evidence = one(p, `${NS}:evidence`)?.split(',').filter(Boolean) ?? [];
    const firstSpan = parseFirstSpan(one(p, `${NS}:first_span`));
    const common = { evidence, firstSpan, version: typeof c.version === 'string' && c.version ? c.version : undefined };
    if (ours) {
      // Our own entities of source `declared` were never seen: they are no observation.
      if (ours === 'infrastructure' || one(p, `${NS}:source`) === 'declared') continue;
      const it = item(ours, name, { ...common, provider: ours === 'model' ? String(c.group ?? '') : undefined });
      const ref = one(p, 'cdx:mcp:serviceRef');
      if (ref) serviceRefOf.set(it, ref);
      add(c['bom-ref'], it);
    } else if (c.type === 'machine-learning-model') {
      add(c['bom-ref'], item('model', name, { ...common, provider: one(p, 'cdx:ai:provider') ?? (typeof c.group === 'string' ? c.group : undefined) }));
    } else if (one(p, 'cdx:mcp:role') === 'tool') {
      const it = item('tool', name, common);
      const ref = one(p, 'cdx:mcp:serviceRef');
      if (ref) serviceRefOf.set(it, ref);
      add(c['bom-ref'], it);
    } else if (c.type === 'data' && ![...p.keys()].some((k) => k.startsWith('k8s-aibom:volume') || k.startsWith('volume.'))) {
      // k8s-aibom's data components are model storage volumes, not data a tool reads.
      add(c['bom-ref'], item('data_source', name, common));
    }
  }
  for (const s of flatten((doc.services ?? []) as Json[])) {
    const p = props(s);
    const ours = (one(p, `${NS}:kind`) as EntityKind | undefined) ?? snykKind(s['bom-ref']);
    const kind: EntityKind = ours ?? (s.group === 'mcp' || [...p.keys()].some((k) => k.startsWith('cdx:mcp:')) ? 'mcp_server' : 'endpoint');
    if (one(p, `${NS}:source`) === 'declared') continue;
    const it = item(kind, String(s.name ?? ''), {
      endpoints: Array.isArray(s.endpoints) ? s.endpoints.map(String) : [],
      tools: one(p, 'cdx:mcp:toolNames')?.split(',').filter(Boolean) ?? [],
      command: one(p, `${NS}:process.command_args`),
      evidence: one(p, `${NS}:evidence`)?.split(',').filter(Boolean) ?? [],
      firstSpan: parseFirstSpan(one(p, `${NS}:first_span`)),
    });
    add(s['bom-ref'], it);
  }
  // Relations: a server provides its tools; a tool depends on the endpoints it reaches.
  for (const d of (Array.isArray(doc.dependencies) ? doc.dependencies : []) as Json[]) {
    const from = byRef.get(String(d.ref));
    if (!from) continue;
    for (const ref of (Array.isArray(d.provides) ? d.provides : []) as string[]) {
      const to = byRef.get(ref);
      if (to?.kind === 'tool' && from.kind === 'mcp_server') link(from, to);
    }
    for (const ref of (Array.isArray(d.dependsOn) ? d.dependsOn : []) as string[]) {
      const to = byRef.get(ref);
      if (from.kind === 'tool' && to?.kind === 'endpoint') from.endpoints.push(to.name);
      if (from.kind === 'tool' && to?.kind === 'mcp_server') link(to, from);
      if (from.kind === 'mcp_server' && to?.kind === 'tool') link(from, to); // Snyk: server dependsOn its tools
    }
  }
  for (const [tool, ref] of serviceRefOf) {
    const server = byRef.get(ref);
    if (server?.kind === 'mcp_server') link(server, tool);
  }
  return { format: 'cyclonedx', specVersion: spec, producer, items };
}

/**
 * Snyk's AI-BOM (`snyk aibom`, CycloneDX 1.6) says what a component is by its bom-ref prefix:
 * `agent:`, `model:`, `tool:`, `mcp-server:`, `service:` (also `mcp-client:`, `mcp-resource:`, `pkg:`,
 * `application:`, which have no entity here). Our own ids share the first three.
 */
function snykKind(ref: unknown): EntityKind | undefined {
  if (typeof ref !== 'string') return undefined;
  const prefix = ref.slice(0, ref.indexOf(':') + 1);
  return ({ 'agent:': 'agent', 'model:': 'model', 'tool:': 'tool', 'mcp-server:': 'mcp_server', 'service:': 'endpoint' } as Record<string, EntityKind>)[prefix];
}

function link(server: BomItem, tool: BomItem): void {
  if (!server.tools.includes(tool.name)) server.tools.push(tool.name);
  if (!tool.servers.includes(server.name)) tool.servers.push(server.name);
}

function flatten(list: Json[]): Json[] {
  return list.flatMap((c) => [c, ...flatten(((c.components ?? c.services) as Json[] | undefined) ?? [])]);
}

function parseFirstSpan(v: string | undefined): { traceId: string; spanId: string } | undefined {
  const m = v ? /^([0-9a-f]{32})\/([0-9a-f]{16})$/.exec(v) : null;
  return m ? { traceId: m[1]!, spanId: m[2]! } : undefined;
}

/**
 * Our short YAML format for hand-written declarations (see README):
 *   aibom: 1
 *   agents: [support-agent]
 *   models: [{ name: gpt-4o-mini, provider: openai }]
 *   tools: [search_kb, { name: http_post, endpoints: [tickets.internal:443] }]
 *   mcp_servers: [{ name: "@modelcontextprotocol/server-filesystem", tools: [read_text_file] }]
 *   endpoints: [https://kb.internal/search]
 *   data_sources: ["/srv/support/*.md"]
 *   identities: [/var/run/secrets/token]
 */
const YAML_KINDS: Record<string, EntityKind> = {
  agents: 'agent',
  models: 'model',
  tools: 'tool',
  mcp_servers: 'mcp_server',
  endpoints: 'endpoint',
  data_sources: 'data_source',
  identities: 'identity',
};

function readYaml(doc: unknown, source: string): Bom {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc) || (doc as Json).aibom !== 1) {
    throw new BomFormatError(`${source}: neither CycloneDX JSON nor our YAML format (a map with "aibom: 1")`);
  }
  const d = doc as Json;
  const items: BomItem[] = [];
  for (const key of Object.keys(d)) {
    if (key === 'aibom') continue;
    const kind = YAML_KINDS[key];
    if (!kind) throw new BomFormatError(`${source}: unknown key "${key}" (expected ${Object.keys(YAML_KINDS).join(', ')})`);
    const list = d[key];
    if (!Array.isArray(list)) throw new BomFormatError(`${source}: ${key} must be a list`);
    list.forEach((entry, i) => {
      const at = `${source}: ${key}[${i}]`;
      if (typeof entry === 'string') return items.push(item(kind, entry, kind === 'endpoint' ? { endpoints: [entry] } : {}));
      if (!entry || typeof entry !== 'object' || typeof (entry as Json).name !== 'string') throw new BomFormatError(`${at}: expected a name or a map with "name"`);
      const e = entry as Json;
      const strings = (k: string) => {
        const v = e[k];
        if (v === undefined) return [];
        if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new BomFormatError(`${at}.${k}: expected a list of strings`);
        return v as string[];
      };
      const it = item(kind, e.name as string, {
        provider: typeof e.provider === 'string' ? e.provider : undefined,
        version: typeof e.version === 'string' ? e.version : undefined,
        endpoints: strings('endpoints'),
        tools: strings('tools'),
        servers: typeof e.server === 'string' ? [e.server] : [],
      });
      if (kind === 'endpoint' && it.endpoints.length === 0) it.endpoints.push(it.name);
      items.push(it);
    });
  }
  // A server's tools are declared tools too.
  for (const s of items.filter((x) => x.kind === 'mcp_server')) {
    for (const t of s.tools) {
      const tool = items.find((x) => x.kind === 'tool' && x.name === t) ?? items[items.push(item('tool', t)) - 1]!;
      if (!tool.servers.includes(s.name)) tool.servers.push(s.name);
    }
  }
  return { format: 'aibom-yaml', items };
}
