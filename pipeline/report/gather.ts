import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readHistory, type HistoryEntry } from '../../processors/history/index.js';
import type { BaselineState, CoverageCounter, InventoryItem, ReportData } from './model.js';

const NS = 'aibom-collector:';

interface Cdx {
  components?: CdxItem[];
  services?: CdxItem[];
  dependencies?: { ref: string; dependsOn?: string[]; provides?: string[] }[];
}
interface CdxItem {
  'bom-ref'?: string;
  name?: string;
  properties?: { name: string; value: string }[];
}

/** The inventory and its relations from the runtime AI-BOM (CycloneDX JSON as GET /v1/aibom serves it). */
export function inventoryOf(bom: Cdx): { inventory: InventoryItem[]; edges: { from: string; to: string }[] } {
  const inventory: InventoryItem[] = [];
  for (const c of [...(bom.components ?? []), ...(bom.services ?? [])]) {
    const p = Object.fromEntries((c.properties ?? []).filter((x) => x.name.startsWith(NS)).map((x) => [x.name.slice(NS.length), x.value]));
    const item: InventoryItem = { id: c['bom-ref'] ?? '', kind: p.kind ?? 'unknown', name: c.name ?? '' };
    if (p.first_seen) item.firstSeen = p.first_seen;
    if (p.last_seen) item.lastSeen = p.last_seen;
    if (p.observations) item.observations = Number(p.observations);
    if (p.source) item.source = p.source;
    inventory.push(item);
  }
  const edges = (bom.dependencies ?? []).flatMap((d) => [...(d.dependsOn ?? []), ...(d.provides ?? [])].map((to) => ({ from: d.ref, to })));
  return { inventory, edges };
}

/** Counters that say something was missed: drops, refusals, sensor restarts, kernel events lost. */
export function coverageOf(metricsText: string): CoverageCounter[] {
  const out: CoverageCounter[] = [];
  for (const line of metricsText.split('\n')) {
    const m = /^(aibom_[a-z_]*(?:dropped|refused|rejected|restarts|overflow|truncated|errors)[a-z_]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m || Number(m[4]) === 0) continue;
    out.push({ metric: m[1]!, labels: Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!])), value: Number(m[4]) });
  }
  return out;
}

function split(entries: HistoryEntry[], fromMs: number, toMs: number): Pick<ReportData, 'deviations' | 'findings' | 'gaps'> {
  const inPeriod = entries.filter((e) => e.timeMs >= fromMs && e.timeMs <= toMs).sort((a, b) => a.timeMs - b.timeMs);
  return { deviations: inPeriod.filter((e) => e.kind === 'deviation'), findings: inPeriod.filter((e) => e.kind === 'finding'), gaps: inPeriod.filter((e) => e.kind === 'sensor-gap') };
}

/** Entities first seen after the period did not exist at its end. */
const atEnd = (inv: InventoryItem[], toMs: number) => inv.filter((i) => !i.firstSeen || Date.parse(i.firstSeen) <= toMs);

async function get(url: string, what: string): Promise<Response> {
  try {
    return await fetch(url, { signal: AbortSignal.timeout(15_000) });
  } catch (err) {
    const cause = (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message;
    throw new Error(`${url}: ${cause} (is the collector running? ${what})`);
  }
}

/** From a running collector's admin listener: /v1/aibom, /v1/baselines, /v1/history, /metrics. */
export async function gatherFromAdmin(adminUrl: string, fromMs: number, toMs: number, traceUrlTemplate: string): Promise<ReportData> {
  const base = adminUrl.replace(/\/+$/, '');
  const bomRes = await get(`${base}/v1/aibom`, 'the report needs its aibom processor');
  if (!bomRes.ok) throw new Error(`${base}/v1/aibom: HTTP ${bomRes.status} (the report needs the aibom processor)`);
  const { inventory, edges } = inventoryOf((await bomRes.json()) as Cdx);
  const histRes = await get(`${base}/v1/history?from=${encodeURIComponent(new Date(fromMs).toISOString())}&to=${encodeURIComponent(new Date(toMs).toISOString())}`, '');
  if (!histRes.ok) throw new Error(`${base}/v1/history: HTTP ${histRes.status} ${(await histRes.text()).trim()} (the report needs the history processor in the logs pipeline, as in the embedded default)`);
  const history = ((await histRes.json()) as { entries: HistoryEntry[] }).entries;
  const blRes = await get(`${base}/v1/baselines`, '');
  const baselines = blRes.ok ? ((await blRes.json()) as { profiles: BaselineState[] }).profiles : undefined;
  const coverage = coverageOf(await (await get(`${base}/metrics`, '')).text());
  return { fromMs, toMs, generatedMs: Date.now(), source: base, inventory: atEnd(inventory, toMs), edges, ...split(history, fromMs, toMs), ...(baselines ? { baselines } : {}), coverage, traceUrlTemplate };
}

/** From a data directory (AIBOM_DATA_DIR of the embedded default) while the collector is stopped or elsewhere. */
export function gatherFromDataDir(dir: string, fromMs: number, toMs: number, traceUrlTemplate: string): ReportData {
  const bomFile = join(dir, 'aibom', 'aibom.cdx.json');
  if (!existsSync(bomFile)) throw new Error(`${bomFile}: no runtime AI-BOM in this data directory`);
  let bom: Cdx;
  try {
    bom = JSON.parse(readFileSync(bomFile, 'utf8')) as Cdx;
  } catch (err) {
    throw new Error(`${bomFile}: not JSON (${(err as Error).message})`);
  }
  const { inventory, edges } = inventoryOf(bom);
  const history = readHistory(join(dir, 'history', 'history.jsonl'));
  const blDir = join(dir, 'baselines');
  let baselines: BaselineState[] | undefined;
  if (existsSync(blDir)) {
    baselines = readdirSync(blDir)
      .filter((n) => n.endsWith('.json'))
      .sort()
      .map((n) => {
        try {
          return JSON.parse(readFileSync(join(blDir, n), 'utf8')) as BaselineState;
        } catch (err) {
          throw new Error(`${join(blDir, n)}: not JSON (${(err as Error).message})`);
        }
      });
  }
  return { fromMs, toMs, generatedMs: Date.now(), source: dir, inventory: atEnd(inventory, toMs), edges, ...split(history, fromMs, toMs), ...(baselines ? { baselines } : {}), traceUrlTemplate };
}
