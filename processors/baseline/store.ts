import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomic } from '../aibom/store.js';
import { LIST_FACTS, PROFILE_FORMAT, Profile, type ProfileDoc, type ProfileSettings } from './profile.js';

/** A profile file is unreadable or not a profile: start-up stops and says which file. */
export class BaselineStoreError extends Error {
  override readonly name = 'BaselineStoreError';
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`baseline profile ${file} cannot be used: ${reason} (fix or move the file; profiles are never reset silently)`);
  }
}

const ID = /^(agent|tool|mcp_server|model):[0-9a-f]{16}$/;
const STATES = ['learning', 'ready', 'frozen'];

/** `tool:0123456789abcdef` -> `tool-0123456789abcdef.json` (no colon in file names). */
export function profileFile(directory: string, id: string): string {
  return join(directory, `${id.replace(':', '-')}.json`);
}

/** Every `*.json` in `directory` (none when it does not exist yet); throws BaselineStoreError naming a bad file. */
export function loadProfiles(directory: string, settings: ProfileSettings): Profile[] {
  let names: string[];
  try {
    names = readdirSync(directory).filter((n) => n.endsWith('.json'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new BaselineStoreError(directory, (err as Error).message);
  }
  return names.sort().map((n) => {
    const file = join(directory, n);
    const p = readProfile(file, readFileSync(file, 'utf8'), settings);
    if (profileFile(directory, p.id) !== file) throw new BaselineStoreError(file, `holds profile ${p.id}, whose file is ${profileFile(directory, p.id)}`);
    return p;
  });
}

/** Parses and checks a profile document (a stored file or one a person reviewed and copied in). */
export function readProfile(file: string, text: string, settings: ProfileSettings): Profile {
  let d: Partial<ProfileDoc>;
  try {
    d = JSON.parse(text) as Partial<ProfileDoc>;
  } catch (err) {
    throw new BaselineStoreError(file, `not JSON (${(err as Error).message})`);
  }
  const bad = (why: string) => new BaselineStoreError(file, why);
  if (d?.format !== PROFILE_FORMAT) throw bad(`not a baseline profile (format ${JSON.stringify(d?.format)})`);
  if (d.version !== 1) throw bad(`unsupported version ${JSON.stringify(d.version)} (this build reads 1)`);
  if (typeof d.id !== 'string' || !ID.test(d.id)) throw bad(`id ${JSON.stringify(d.id)} is not an entity id of an agent, tool, mcp_server or model`);
  if (d.component?.kind !== d.id.slice(0, d.id.indexOf(':')) || typeof d.component?.name !== 'string') throw bad('component must have the kind of the id and a name');
  if (!STATES.includes(d.state as string)) throw bad(`state must be one of ${STATES.join(', ')}`);
  if (d.completeness !== 'complete' && d.completeness !== 'partial') throw bad('completeness must be complete or partial');
  if (typeof d.observations !== 'number' || typeof d.overflow !== 'number') throw bad('observations and overflow must be numbers');
  for (const k of ['firstSeen', 'lastSeen', 'stateSince'] as const) if (typeof d[k] !== 'string' || Number.isNaN(Date.parse(d[k]))) throw bad(`${k} must be an ISO time`);
  const f = d.facts;
  if (typeof f !== 'object' || f === null) throw bad('facts missing');
  for (const k of [...LIST_FACTS, 'files'] as const) if (!Array.isArray(f[k]) || f[k].some((v) => typeof v !== 'string')) throw bad(`facts.${k} must be a list of strings`);
  const numbers = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'number');
  if (typeof f.arguments !== 'object' || f.arguments === null) throw bad('facts.arguments must be a map');
  for (const [k, a] of Object.entries(f.arguments)) {
    if (typeof a?.count !== 'number' || !Array.isArray(a.types) || !numbers(a.lengths) || !(a.values === null || Array.isArray(a.values))) throw bad(`facts.arguments.${k} needs count, types, lengths and values (a list or null)`);
  }
  if (typeof f.payloads !== 'object' || f.payloads === null || !Object.values(f.payloads).every(numbers)) throw bad('facts.payloads must map destinations to lists of sizes');
  return Profile.fromDoc(d as ProfileDoc, settings);
}

export function saveProfile(directory: string, p: Profile): void {
  writeAtomic(profileFile(directory, p.id), `${JSON.stringify(p.toDoc(), null, 1)}\n`);
  p.dirty = false;
}
