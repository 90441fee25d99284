import { NS } from './cyclonedx.js';

type Json = Record<string, unknown>;

interface Node {
  ref: string;
  label: string;
  kind: string;
  children: string[];
}

const ORDER = ['model', 'tool', 'mcp_server', 'endpoint', 'data_source', 'identity', 'infrastructure', 'agent'];

function kindOf(x: Json, service: boolean): string {
  const props = (Array.isArray(x.properties) ? x.properties : []) as { name?: string; value?: string }[];
  const ours = props.find((p) => p.name === `${NS}:kind`)?.value;
  if (ours) return ours;
  if (service) return x.group === 'mcp' ? 'mcp_server' : 'endpoint';
  if (x.type === 'machine-learning-model') return 'model';
  if (props.some((p) => p.name === 'cdx:mcp:role' && p.value === 'tool')) return 'tool';
  if (x.type === 'data') return 'data_source';
  return 'agent';
}

function label(x: Json, kind: string): string {
  const props = (Array.isArray(x.properties) ? x.properties : []) as { name?: string; value?: string }[];
  const get = (k: string) => props.find((p) => p.name === `${NS}:${k}`)?.value;
  const bits: string[] = [];
  if (kind === 'model' && x.group) bits.push(String(x.group));
  if (x.version) bits.push(`version ${String(x.version)}`);
  if (kind === 'mcp_server') bits.push(props.find((p) => p.name === 'cdx:mcp:transport')?.value ?? '');
  if (kind === 'endpoint' && Array.isArray(x.endpoints)) bits.push((x.endpoints as string[]).join(' '));
  if (x.trustZone) bits.push(String(x.trustZone));
  const seen = get('observations');
  if (seen) bits.push(`seen ${seen}x`);
  const source = get('source');
  if (source && source !== 'observed') bits.push(source);
  return `${kind} ${String(x.name)}${bits.filter(Boolean).length > 0 ? `  (${bits.filter(Boolean).join(', ')})` : ''}`;
}

/**
 * A CycloneDX AI-BOM as a terminal tree: agents, then what each uses (models, tools), a tool's MCP
 * server, and what they reach, read or run as. Shared nodes repeat under each parent; cycles stop.
 */
export function renderTree(doc: Json): string {
  const nodes = new Map<string, Node>();
  for (const [list, service] of [[doc.components, false], [doc.services, true]] as const) {
    for (const x of (Array.isArray(list) ? list : []) as Json[]) {
      const ref = String(x['bom-ref'] ?? x.name);
      const kind = kindOf(x, service);
      nodes.set(ref, { ref, kind, label: label(x, kind), children: [] });
    }
  }
  for (const d of (Array.isArray(doc.dependencies) ? doc.dependencies : []) as Json[]) {
    const n = nodes.get(String(d.ref));
    if (!n) continue;
    for (const r of [...((d.dependsOn as string[] | undefined) ?? []), ...((d.provides as string[] | undefined) ?? [])]) if (nodes.has(r) && !n.children.includes(r)) n.children.push(r);
  }
  // A tool's MCP server hangs under the tool (reading order: tool -> server -> what it touches), also
  // when the BOM only says the server provides the tool (cdxgen).
  for (const n of nodes.values()) {
    if (n.kind !== 'mcp_server') continue;
    for (const c of n.children) {
      const tool = nodes.get(c)!;
      if (tool.kind === 'tool' && !tool.children.includes(n.ref)) tool.children.push(n.ref);
    }
    n.children = n.children.filter((c) => nodes.get(c)?.kind !== 'tool');
  }
  const rank = (n: Node) => ORDER.indexOf(n.kind);
  const lines: string[] = [];
  const walk = (ref: string, prefix: string, last: boolean, path: Set<string>, depth: number) => {
    const n = nodes.get(ref)!;
    lines.push(`${prefix}${depth === 0 ? '' : last ? '└─ ' : '├─ '}${n.label}`);
    if (path.has(ref)) return;
    const kids = n.children.map((c) => nodes.get(c)!).filter((c) => c.kind !== 'infrastructure' || depth === 0).sort((a, b) => rank(a) - rank(b) || a.label.localeCompare(b.label));
    const next = depth === 0 ? '' : prefix + (last ? '   ' : '│  ');
    kids.forEach((k, i) => walk(k.ref, next, i === kids.length - 1, new Set([...path, ref]), depth + 1));
  };
  const agents = [...nodes.values()].filter((n) => n.kind === 'agent').sort((a, b) => a.label.localeCompare(b.label));
  for (const a of agents) walk(a.ref, '', true, new Set(), 0);
  const reached = new Set<string>();
  const mark = (ref: string) => {
    if (reached.has(ref)) return;
    reached.add(ref);
    for (const c of nodes.get(ref)!.children) mark(c);
  };
  for (const a of agents) mark(a.ref);
  // What no agent reaches (a declared BOM without agents, say): trees from what nothing points to.
  const pointed = new Set([...nodes.values()].flatMap((n) => n.children));
  const roots = [...nodes.values()].filter((n) => !reached.has(n.ref) && !pointed.has(n.ref)).sort((a, b) => rank(a) - rank(b) || a.label.localeCompare(b.label));
  if (roots.length > 0) lines.push('not linked to an agent:');
  for (const r of roots) {
    walk(r.ref, '', true, new Set(), 0);
    mark(r.ref);
  }
  const rest = [...nodes.values()].filter((n) => !reached.has(n.ref));
  for (const n of rest.sort((a, b) => rank(a) - rank(b))) lines.push(n.label);
  return `${lines.join('\n')}\n`;
}
