import { createHash } from 'node:crypto';

/** What an inventory entry is. `entity.type` on the logs signal is `aibom.<kind>`. */
export type EntityKind = 'agent' | 'model' | 'tool' | 'mcp_server' | 'data_source' | 'endpoint' | 'identity' | 'infrastructure';

export const ENTITY_KINDS: readonly EntityKind[] = ['agent', 'model', 'tool', 'mcp_server', 'data_source', 'endpoint', 'identity', 'infrastructure'];

/**
 * Relation types, read "from <type> to": agent uses model/tool, tool implemented_by mcp_server (or a
 * process), mcp_server exposes tool, tool/agent reaches endpoint, tool/agent reads data_source,
 * agent runs_as identity, agent runs_in infrastructure.
 */
export type RelationType = 'uses' | 'implemented_by' | 'exposes' | 'reaches' | 'reads' | 'runs_as' | 'runs_in';

/** Identifying attributes (OTel semantic-convention names where one exists): what the id is made of. */
export type EntityKey = Readonly<Record<string, string | number>>;

/** Descriptive attributes: may change without the entity becoming another one. */
export type EntityAttributes = Record<string, string | number | boolean | string[]>;

export type EntitySource = 'observed' | 'declared' | 'both';

export interface Relation {
  type: RelationType;
  to: string;
}

export interface Entity {
  /** `<kind>:<16 hex>`, a hash of kind and key: the same thing gets the same id on every host and run. */
  id: string;
  kind: EntityKind;
  /** Short human name (tool name, model name, file pattern, host:port). */
  name: string;
  key: EntityKey;
  attributes: EntityAttributes;
  firstSeenMs: number;
  lastSeenMs: number;
  /** Observations (spans or kernel spans) that showed it. */
  count: number;
  /** Trace ids that showed it, oldest first, bounded by config. */
  evidence: string[];
  /** The first trace and span that showed it (findings link to it). */
  first?: { traceId: string; spanId: string };
  relations: Relation[];
  source: EntitySource;
}

/** Key order never changes the id. */
function canonicalKey(key: EntityKey): string {
  return JSON.stringify(Object.keys(key).sort().map((k) => [k, key[k]]));
}

/**
 * Ids of recently seen keys as written (same key order): the hash is most of an observation's cost.
 * Looked up through a tree (kind, then each name and value in turn) so a hit builds no string: the
 * names and values are the span's own (interned) strings, whose hashes V8 keeps, where a
 * JSON.stringify of the key made and hashed a new string on every observation. Map keys tell 1 from '1'.
 */
interface Node {
  /** Made on the first step below: most nodes are leaves. */
  next?: Map<string | number, Node>;
  id?: string;
}

let recent = new Map<string, Node>();
let nodes = 0;
/** Tree nodes kept (2 per key name and value; 16k keys of two); past this the tree starts over. */
const RECENT_NODES = 65_536;

function child(node: Node, step: string | number): Node {
  let next = node.next?.get(step);
  if (next === undefined) {
    next = {};
    (node.next ??= new Map()).set(step, next);
    nodes++;
  }
  return next;
}

export function entityId(kind: EntityKind, key: EntityKey): string {
  if (nodes > RECENT_NODES) {
    recent = new Map();
    nodes = 0;
  }
  let node = recent.get(kind);
  if (node === undefined) recent.set(kind, (node = {}));
  for (const name in key) node = child(child(node, name), key[name]!);
  return (node.id ??= `${kind}:${createHash('sha256').update(kind).update('\0').update(canonicalKey(key)).digest('hex').slice(0, 16)}`);
}

export function kindOfId(id: string): EntityKind | undefined {
  const kind = id.slice(0, id.indexOf(':')) as EntityKind;
  return ENTITY_KINDS.includes(kind) ? kind : undefined;
}
