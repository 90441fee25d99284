import type { EntityKind } from './entity.js';
import type { Bom, BomItem } from './bom-reader.js';

export type FindingType = 'undeclared' | 'unobserved' | 'changed';

export interface Finding {
  type: FindingType;
  kind: EntityKind;
  name: string;
  /** Why, for `changed` (and what a declared item was matched against). */
  detail?: string;
  /** Trace ids that showed it (empty for `unobserved`). */
  evidence: string[];
  firstSpan?: { traceId: string; spanId: string };
}

/** Kinds a declaration can speak about; infrastructure is runtime-only. */
const DIFF_KINDS: readonly EntityKind[] = ['agent', 'model', 'tool', 'mcp_server', 'endpoint', 'data_source', 'identity'];

const norm = (s: string) => s.trim().toLowerCase();

/** `openai/gpt-4o` and `gpt-4o` name the same model. */
function modelName(s: string): string {
  const n = norm(s);
  return n.slice(n.lastIndexOf('/') + 1);
}

/** host:port of a URL or a host:port string (default ports by scheme). */
export function hostPortOf(s: string): string {
  try {
    const u = new URL(s.includes('://') ? s : `http://${s}`);
    const port = u.port || (u.protocol === 'https:' ? '443' : s.includes('://') ? '80' : '');
    return port ? `${u.hostname}:${port}` : u.hostname;
  } catch {
    return norm(s);
  }
}

function glob(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`);
}

/** Whether declared item `d` stands for observed item `o`. */
function same(d: BomItem, o: BomItem): boolean {
  switch (o.kind) {
    case 'model':
      return modelName(d.name) === modelName(o.name);
    case 'mcp_server':
      return norm(d.name) === norm(o.name) || (!!o.command && norm(o.command).includes(norm(d.name))) || (d.tools.length > 0 && d.tools.some((t) => o.tools.includes(t)));
    case 'endpoint': {
      const hp = hostPortOf(o.name);
      const host = hp.replace(/:\d+$/, '');
      return [d.name, ...d.endpoints].some((x) => hostPortOf(x) === hp || hostPortOf(x) === host || norm(x) === norm(o.name));
    }
    case 'data_source':
      return norm(d.name) === norm(o.name) || glob(d.name).test(o.name);
    default:
      return norm(d.name) === norm(o.name);
  }
}

/**
 * Declared vs observed: `undeclared` (ran, never declared: shadow AI, coverage gap), `unobserved`
 * (declared, never seen), `changed` (a known thing behaves differently: another version of a declared
 * model, a new tool on a declared MCP server, a new endpoint of a declared tool that lists its
 * endpoints). A declared item explained by a `changed` finding is not also reported unobserved.
 */
export function diffBoms(declared: Bom, observed: Bom): Finding[] {
  const findings: Finding[] = [];
  const matched = new Set<BomItem>();
  const decl = declared.items.filter((x) => DIFF_KINDS.includes(x.kind));
  const obs = observed.items.filter((x) => DIFF_KINDS.includes(x.kind));
  const evidence = (o: BomItem) => ({ evidence: o.evidence, ...(o.firstSpan ? { firstSpan: o.firstSpan } : {}) });
  const unmatched: BomItem[] = [];
  for (const o of obs) {
    const hits = decl.filter((d) => d.kind === o.kind && same(d, o));
    if (hits.length > 0) {
      for (const h of hits) matched.add(h);
      continue;
    }
    unmatched.push(o);
  }
  for (const o of unmatched) {
    const change = changeOf(o, decl, obs);
    if (change) {
      if (change.explains) matched.add(change.explains);
      findings.push({ type: 'changed', kind: o.kind, name: o.name, detail: change.detail, ...evidence(o) });
    } else findings.push({ type: 'undeclared', kind: o.kind, name: o.name, ...evidence(o) });
  }
  for (const d of decl) if (!matched.has(d)) findings.push({ type: 'unobserved', kind: d.kind, name: d.name, evidence: [] });
  return findings;
}

function changeOf(o: BomItem, decl: BomItem[], obs: BomItem[]): { detail: string; explains?: BomItem } | undefined {
  if (o.kind === 'model') {
    // A declared model of the same provider that never ran: the model was swapped or upgraded.
    const was = decl.find((d) => d.kind === 'model' && d.provider && o.provider && norm(d.provider) === norm(o.provider) && !obs.some((x) => x.kind === 'model' && same(d, x)));
    if (was) return { detail: `declared ${was.name}, ran ${o.name}`, explains: was };
  }
  if (o.kind === 'tool') {
    const server = decl.find((d) => d.kind === 'mcp_server' && o.servers.some((s) => norm(s) === norm(d.name) || obs.some((x) => x.kind === 'mcp_server' && x.name === s && same(d, x))));
    if (server) return { detail: `new tool on declared MCP server ${server.name}` };
  }
  if (o.kind === 'endpoint') {
    const hp = hostPortOf(o.name);
    const tool = decl.find((d) => d.kind === 'tool' && d.endpoints.length > 0 && obs.some((t) => t.kind === 'tool' && norm(t.name) === norm(d.name) && t.endpoints.some((e) => hostPortOf(e) === hp)));
    if (tool) return { detail: `new endpoint of declared tool ${tool.name} (declared ${tool.endpoints.join(', ')})` };
  }
  return undefined;
}

/** A plain table for terminals. */
export function findingsTable(findings: readonly Finding[]): string {
  if (findings.length === 0) return 'no findings: what ran is what was declared\n';
  const rows = findings.map((f) => [f.type, f.kind, f.name, f.detail ?? '', f.evidence.slice(0, 3).join(',') + (f.evidence.length > 3 ? ',…' : '')]);
  const head = ['TYPE', 'KIND', 'NAME', 'DETAIL', 'EVIDENCE (trace ids)'];
  const widths = head.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => r[i]!.length))));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return `${[line(head), ...rows.map(line)].join('\n')}\n${findings.length} finding(s)\n`;
}
