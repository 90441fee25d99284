import { readFileSync } from 'node:fs';
import { diffBoms, findingsTable, readBom, renderTree } from '../../processors/aibom/index.js';

/** Where `aibom diff` and `aibom show` find the running collector's inventory by default. */
export function defaultAibomUrl(): string {
  return `http://${process.env.AIBOM_ADMIN_ENDPOINT ?? '127.0.0.1:8888'}/v1/aibom`;
}

/** A file path or an http(s) URL, read as text. */
async function readSource(source: string): Promise<string> {
  if (/^https?:\/\//.test(source)) {
    let res: Response;
    try {
      res = await fetch(source, { signal: AbortSignal.timeout(10_000) });
    } catch (err) {
      throw new Error(`${source}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message} (is the collector running with an aibom processor?)`);
    }
    if (!res.ok) throw new Error(`${source}: HTTP ${res.status} ${(await res.text()).trim()}`);
    return res.text();
  }
  return readFileSync(source, 'utf8');
}

export interface AibomArgs {
  declared?: string;
  observed?: string;
  format?: string;
  url?: string;
}

/**
 * `aibom diff --declared FILE [--observed FILE|URL] [--format json]`: exit 0 no finding, 1 findings,
 * 2 error. `aibom show [--url URL|FILE]`: the inventory as a tree.
 */
export async function aibomCommand(sub: string | undefined, args: AibomArgs, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  try {
    if (sub === 'diff') {
      if (!args.declared) {
        err('aibom diff: --declared FILE is required\n');
        return 2;
      }
      if (args.format !== undefined && args.format !== 'json' && args.format !== 'table') {
        err(`aibom diff: --format must be json or table, got ${JSON.stringify(args.format)}\n`);
        return 2;
      }
      const observedSource = args.observed ?? defaultAibomUrl();
      const declared = readBom(await readSource(args.declared), args.declared);
      const observed = readBom(await readSource(observedSource), observedSource);
      const findings = diffBoms(declared, observed);
      if (args.format === 'json') out(`${JSON.stringify({ findings: findings.map(({ type, kind, name, detail, evidence }) => ({ type, kind, name, ...(detail ? { detail } : {}), evidence })) }, null, 2)}\n`);
      else out(findingsTable(findings));
      return findings.length > 0 ? 1 : 0;
    }
    if (sub === 'show') {
      const source = args.url ?? defaultAibomUrl();
      const text = await readSource(source);
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch (e) {
        throw new Error(`${source}: not JSON: ${(e as Error).message}`);
      }
      readBom(text, source); // refuses what is not a supported CycloneDX BOM, with the reason
      out(renderTree(doc as Record<string, unknown>));
      return 0;
    }
    err(`aibom: unknown subcommand ${JSON.stringify(sub ?? '')} (diff or show)\n`);
    return 2;
  } catch (e) {
    err(`aibom ${sub}: ${(e as Error).message}\n`);
    return 2;
  }
}
