import type { HistoryEntry } from '../../processors/history/index.js';

/** One AI-BOM entity as the report shows it. */
export interface InventoryItem {
  id: string;
  kind: string;
  name: string;
  firstSeen?: string;
  lastSeen?: string;
  observations?: number;
  /** observed | declared | both, as the AI-BOM says. */
  source?: string;
}

export interface BaselineState {
  id: string;
  component: { kind: string; name: string };
  state: string;
  completeness: string;
  partialReason?: string;
  observations: number;
  firstSeen?: string;
  lastSeen?: string;
}

/** A counter sample that says something was not seen or not kept (drops, refusals, sensor down). */
export interface CoverageCounter {
  metric: string;
  labels: Record<string, string>;
  value: number;
}

/** Everything the evidence report shows, gathered from a running collector or its data directory. */
export interface ReportData {
  fromMs: number;
  toMs: number;
  generatedMs: number;
  /** Where the facts came from: the admin URL or the data directory. */
  source: string;
  inventory: InventoryItem[];
  /** AI-BOM relations (CycloneDX dependencies): agent -> model/tool -> MCP server/endpoint/data. */
  edges: { from: string; to: string }[];
  deviations: HistoryEntry[];
  findings: HistoryEntry[];
  gaps: HistoryEntry[];
  /** Undefined when the collector runs no baseline processor. */
  baselines?: BaselineState[];
  /** Undefined when read from a data directory (counters live in the running process only). */
  coverage?: CoverageCounter[];
  /** A trace's link: the template with `{traceId}` replaced. */
  traceUrlTemplate: string;
}

export const traceUrl = (data: ReportData, traceId: string): string => data.traceUrlTemplate.replaceAll('{traceId}', traceId);

/** Attribute as text ('' when absent); lists joined. */
export function attrText(e: HistoryEntry, key: string): string {
  const v = e.attributes[key];
  if (v === undefined || v === null) return '';
  return Array.isArray(v) ? v.map(String).join(', ') : String(v);
}

export const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

/** The chain of a deviation, step by step, as far as it is known. */
export function chainSteps(e: HistoryEntry): [string, string][] {
  const steps: [string, string][] = [
    ['prompt', attrText(e, 'aibom.chain.prompt')],
    ['LLM', attrText(e, 'aibom.chain.llm.model')],
    ['tool', [attrText(e, 'aibom.chain.tool.name'), attrText(e, 'aibom.chain.tool.arguments')].filter(Boolean).join(' ')],
    ['process', attrText(e, 'aibom.chain.process')],
    ['data', attrText(e, 'aibom.chain.data')],
    ['identity', attrText(e, 'aibom.chain.identity')],
    ['destination', attrText(e, 'aibom.chain.destination')],
  ];
  return steps.filter(([, v]) => v !== '');
}
