import { iso, type ReportData } from './model.js';
import { summary, tables, type Table } from './sections.js';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function tableMd(t: Table): string {
  const body = t.rows.length
    ? [`| ${t.header.join(' | ')} |`, `|${t.header.map(() => '---').join('|')}|`, ...t.rows.map((r, ri) => `| ${r.map((c, ci) => (ci === r.length - 1 && t.links?.[ri] && c ? `[${c.slice(0, 16)}…](${t.links[ri]})` : cell(c))).join(' | ')} |`)].join('\n')
    : '_none_';
  return `## ${t.title}\n\n${t.intro}\n\n${body}\n`;
}

/** The evidence report as Markdown, for a ticket or a PR comment (the graph as a Mermaid flowchart). */
export function renderMarkdown(data: ReportData): string {
  const ids = new Map(data.inventory.map((i, n) => [i.id, `n${n}`]));
  const edges = data.edges.filter((e) => ids.has(e.from) && ids.has(e.to));
  const used = new Set(edges.flatMap((e) => [e.from, e.to]));
  const mermaid = edges.length
    ? ['```mermaid', 'flowchart LR', ...data.inventory.filter((i) => used.has(i.id)).map((i) => `  ${ids.get(i.id)}["${i.kind}: ${i.name.replace(/"/g, "'")}"]`), ...edges.map((e) => `  ${ids.get(e.from)} --> ${ids.get(e.to)}`), '```'].join('\n')
    : '_no relations in the AI-BOM_';
  return [
    `# AI runtime evidence report`,
    '',
    `Period ${iso(data.fromMs)} to ${iso(data.toMs)}; generated ${iso(data.generatedMs)} by aibom-collector from ${data.source}.`,
    '',
    ...summary(data).map(([k, v]) => `- **${k}**: ${v}`),
    '',
    tables(data).map(tableMd).join('\n'),
    '## What talked to what',
    '',
    mermaid,
    '',
  ].join('\n');
}
