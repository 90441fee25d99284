import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ENTITY_KINDS, type Entity } from './entity.js';

const FORMAT = 'aibom-collector/inventory';
const VERSION = 1;

export interface StoredInventory {
  entities: Entity[];
  overflow: number;
  /** Findings already reported as log records (continuous mode), so a restart does not repeat them. */
  reported?: string[];
}

/** The inventory file is unreadable or not ours: start-up stops and says which file. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`AI-BOM inventory ${file} cannot be used: ${reason} (fix or move the file; it is never reset silently)`);
  }
}

export function storeFile(directory: string): string {
  return join(directory, 'inventory.json');
}

/** Writes through a temporary file and a rename, so a crash leaves the old file or the new one. */
export function writeAtomic(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** Undefined when there is no store yet; throws StoreError for anything else that is wrong. */
export function loadInventory(file: string): StoredInventory | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StoreError(file, (err as Error).message);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new StoreError(file, `not JSON (${(err as Error).message})`);
  }
  const d = doc as { format?: unknown; version?: unknown; entities?: unknown; overflow?: unknown };
  if (d?.format !== FORMAT) throw new StoreError(file, `not an aibom-collector inventory (format ${JSON.stringify(d?.format)})`);
  if (d.version !== VERSION) throw new StoreError(file, `unsupported version ${JSON.stringify(d.version)} (this build reads ${VERSION})`);
  if (!Array.isArray(d.entities)) throw new StoreError(file, '"entities" is not a list');
  d.entities.forEach((e, i) => checkEntity(file, e, i));
  const reported = (doc as { reported?: unknown }).reported;
  return { entities: d.entities as Entity[], overflow: typeof d.overflow === 'number' ? d.overflow : 0, reported: Array.isArray(reported) ? reported.map(String) : [] };
}

function checkEntity(file: string, e: unknown, i: number): void {
  const x = e as Partial<Entity>;
  const bad = (what: string) => new StoreError(file, `entities[${i}]: ${what}`);
  if (typeof x !== 'object' || x === null) throw bad('not an object');
  if (typeof x.id !== 'string' || typeof x.name !== 'string') throw bad('id and name must be strings');
  if (!ENTITY_KINDS.includes(x.kind!)) throw bad(`unknown kind ${JSON.stringify(x.kind)}`);
  if (typeof x.key !== 'object' || typeof x.attributes !== 'object' || !Array.isArray(x.evidence) || !Array.isArray(x.relations)) throw bad('key, attributes, evidence or relations missing');
  if (typeof x.firstSeenMs !== 'number' || typeof x.lastSeenMs !== 'number' || typeof x.count !== 'number') throw bad('firstSeenMs, lastSeenMs and count must be numbers');
}

export function saveInventory(file: string, inv: StoredInventory): void {
  writeAtomic(file, `${JSON.stringify({ format: FORMAT, version: VERSION, savedAt: new Date().toISOString(), overflow: inv.overflow, reported: inv.reported ?? [], entities: inv.entities })}\n`);
}
