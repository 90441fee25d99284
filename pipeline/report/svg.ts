import type { HistoryEntry } from '../../processors/history/index.js';
import { attrText, iso, type InventoryItem, type ReportData } from './model.js';

export const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export const SEVERITY_COLOUR: Readonly<Record<string, string>> = { critical: '#7f1d1d', high: '#dc2626', medium: '#ea580c', low: '#ca8a04', info: '#2563eb' };
const colour = (e: HistoryEntry) => SEVERITY_COLOUR[attrText(e, 'aibom.deviation.severity')] ?? '#6b7280';

/** Axis labels short enough not to overlap: the time of day within a day (UTC), the date and hour beyond. */
const tick = (ms: number, span: number) => (span <= 86_400_000 ? `${iso(ms).slice(11, 19)} UTC` : `${iso(ms).slice(0, 10)} ${iso(ms).slice(11, 16)}`);

const CATEGORIES = ['coverage-gap', 'misuse', 'drift', 'execution', 'credential-access', 'data-access', 'egress'];

/** Deviations over the period: one row per rule family, one dot per deviation (colour = severity), sensor gaps shaded. */
export function timelineSvg(data: ReportData): string {
  const W = 960;
  const left = 130;
  const top = 20;
  const row = 26;
  const rows = CATEGORIES.length;
  const H = top + rows * row + 40;
  const span = Math.max(1, data.toMs - data.fromMs);
  const x = (ms: number) => left + ((ms - data.fromMs) / span) * (W - left - 20);
  const parts: string[] = [];
  for (const g of data.gaps) {
    const start = Number(g.attributes['aibom.sensor.gap.start_unix_nano'] ?? 0) / 1e6 || g.timeMs;
    const end = Number(g.attributes['aibom.sensor.gap.end_unix_nano'] ?? 0) / 1e6 || g.timeMs;
    const x0 = x(Math.max(start, data.fromMs));
    parts.push(`<rect x="${x0}" y="${top}" width="${Math.max(2, x(Math.min(end, data.toMs)) - x0)}" height="${rows * row}" fill="#e5e7eb"><title>sensor gap ${esc(iso(start))} - ${esc(iso(end))}</title></rect>`);
  }
  CATEGORIES.forEach((c, i) => {
    const y = top + i * row;
    parts.push(`<line x1="${left}" y1="${y + row / 2}" x2="${W - 20}" y2="${y + row / 2}" stroke="#e5e7eb"/>`);
    parts.push(`<text x="${left - 8}" y="${y + row / 2 + 4}" text-anchor="end" font-size="12" fill="#374151">${c}</text>`);
  });
  for (const d of data.deviations) {
    const i = Math.max(0, CATEGORIES.indexOf(attrText(d, 'security_rule.category')));
    const label = `${iso(d.timeMs)} ${attrText(d, 'aibom.deviation.rule')} on ${attrText(d, 'aibom.deviation.component.kind')}/${attrText(d, 'aibom.deviation.component.name')}`;
    parts.push(`<circle cx="${x(d.timeMs).toFixed(1)}" cy="${top + i * row + row / 2}" r="6" fill="${colour(d)}" fill-opacity="0.85"><title>${esc(label)}</title></circle>`);
  }
  const axisY = top + rows * row;
  parts.push(`<line x1="${left}" y1="${axisY}" x2="${W - 20}" y2="${axisY}" stroke="#9ca3af"/>`);
  for (let k = 0; k <= 4; k++) {
    const ms = data.fromMs + (span * k) / 4;
    parts.push(`<text x="${x(ms)}" y="${axisY + 18}" text-anchor="${k === 0 ? 'start' : k === 4 ? 'end' : 'middle'}" font-size="11" fill="#6b7280">${esc(tick(ms, span))}</text>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="Timeline of deviations by rule family">${parts.join('')}</svg>`;
}

const COLUMN_OF: Readonly<Record<string, number>> = { agent: 0, model: 1, tool: 1, mcp_server: 2, endpoint: 3, data: 3, identity: 3 };

/** The agent -> model/tool -> MCP server -> endpoint/data graph of the AI-BOM; components with deviations in red. */
export function graphSvg(data: ReportData): string {
  const byId = new Map(data.inventory.map((i) => [i.id, i]));
  const edges = data.edges.filter((e) => byId.has(e.from) && byId.has(e.to));
  const linked = new Set(edges.flatMap((e) => [e.from, e.to]));
  const nodes = data.inventory.filter((i) => linked.has(i.id) || i.kind === 'agent');
  const deviating = new Set(data.deviations.map((d) => `${attrText(d, 'aibom.deviation.component.kind')}/${attrText(d, 'aibom.deviation.component.name')}`));
  const columns: InventoryItem[][] = [[], [], [], []];
  for (const n of nodes) columns[COLUMN_OF[n.kind] ?? 3]!.push(n);
  for (const c of columns) c.sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
  const colW = 235;
  const boxW = 200;
  const boxH = 34;
  const gap = 14;
  const H = Math.max(1, ...columns.map((c) => c.length)) * (boxH + gap) + 40;
  const pos = new Map<string, { x: number; y: number }>();
  columns.forEach((c, ci) => c.forEach((n, ri) => pos.set(n.id, { x: 10 + ci * colW, y: 30 + ri * (boxH + gap) })));
  const parts: string[] = ['<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#9ca3af"/></marker></defs>'];
  ['agents', 'models and tools', 'MCP servers', 'endpoints, data, identities'].forEach((t, i) => parts.push(`<text x="${10 + i * colW}" y="16" font-size="12" font-weight="bold" fill="#374151">${t}</text>`));
  for (const e of edges) {
    const a = pos.get(e.from);
    const b = pos.get(e.to);
    if (!a || !b) continue;
    const [x1, x2] = a.x <= b.x ? [a.x + boxW, b.x] : [a.x, b.x + boxW];
    parts.push(`<path d="M${x1},${a.y + boxH / 2} C${(x1 + x2) / 2},${a.y + boxH / 2} ${(x1 + x2) / 2},${b.y + boxH / 2} ${x2},${b.y + boxH / 2}" fill="none" stroke="#9ca3af" stroke-width="1.3" marker-end="url(#arrow)"/>`);
  }
  for (const n of nodes) {
    const p = pos.get(n.id)!;
    const bad = deviating.has(`${n.kind}/${n.name}`);
    const name = n.name.length > 28 ? `${n.name.slice(0, 27)}…` : n.name;
    parts.push(`<g><title>${esc(`${n.kind} ${n.name}${bad ? ' (deviations)' : ''}`)}</title><rect x="${p.x}" y="${p.y}" width="${boxW}" height="${boxH}" rx="6" fill="${bad ? '#fee2e2' : '#f9fafb'}" stroke="${bad ? '#dc2626' : '#d1d5db'}" stroke-width="${bad ? 2 : 1}"/><text x="${p.x + 8}" y="${p.y + 14}" font-size="10" fill="#6b7280">${esc(n.kind)}</text><text x="${p.x + 8}" y="${p.y + 28}" font-size="12" fill="#111827">${esc(name)}</text></g>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${10 + 4 * colW} ${H}" width="100%" role="img" aria-label="Agent, tool and endpoint graph">${parts.join('')}</svg>`;
}
