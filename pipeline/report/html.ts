import { iso, type ReportData } from './model.js';
import { summary, tables, type Table } from './sections.js';
import { esc, graphSvg, SEVERITY_COLOUR, timelineSvg } from './svg.js';

const STYLE = `body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#111827;margin:0;background:#f3f4f6}
main{max-width:1180px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 6px}
.meta{color:#4b5563}.card{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:14px 16px;margin-top:12px}
.summary{display:flex;flex-wrap:wrap;gap:10px}.summary div{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:10px 14px;min-width:140px}
.summary b{display:block;font-size:20px}
table{border-collapse:collapse;width:100%;font-size:12.5px}th,td{border-bottom:1px solid #e5e7eb;padding:5px 6px;text-align:left;vertical-align:top}
th{background:#f9fafb}td{word-break:break-word}.sev{color:#fff;border-radius:4px;padding:1px 6px;font-size:11px;white-space:nowrap}
.legend span{display:inline-block;margin-right:12px;font-size:12px}.legend i{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:4px}
.empty{color:#6b7280;font-style:italic}
table.deviations td:nth-child(-n+3){white-space:nowrap}`;

function tableHtml(t: Table): string {
  const sevCol = t.header.indexOf('severity');
  const body = t.rows.length
    ? `<table class="${t.title === 'Deviations' ? 'deviations' : ''}"><thead><tr>${t.header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${t.rows
        .map((r, ri) => `<tr>${r.map((c, ci) => {
          const link = ci === r.length - 1 ? t.links?.[ri] : undefined;
          if (link && c) return `<td><a href="${esc(link)}">${esc(c.slice(0, 16))}…</a></td>`;
          if (ci === sevCol) return `<td><span class="sev" style="background:${SEVERITY_COLOUR[c] ?? '#6b7280'}">${esc(c)}</span></td>`;
          return `<td>${esc(c)}</td>`;
        }).join('')}</tr>`)
        .join('')}</tbody></table>`
    : '<p class="empty">none</p>';
  return `<section class="card"><h2>${esc(t.title)}</h2><p class="meta">${esc(t.intro)}</p>${body}</section>`;
}

/** The evidence report as one self-contained HTML page: inline CSS and SVG, no script, nothing fetched (the CSP says so). */
export function renderHtml(data: ReportData): string {
  const legend = Object.entries(SEVERITY_COLOUR).map(([s, c]) => `<span><i style="background:${c}"></i>${s}</span>`).join('') + '<span><i style="background:#e5e7eb;border-radius:0"></i>sensor gap</span>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>AI runtime evidence ${esc(iso(data.fromMs))} – ${esc(iso(data.toMs))}</title>
<style>${STYLE}</style></head>
<body><main>
<h1>AI runtime evidence report</h1>
<p class="meta">Period ${esc(iso(data.fromMs))} to ${esc(iso(data.toMs))} · generated ${esc(iso(data.generatedMs))} by aibom-collector from ${esc(data.source)}</p>
<div class="summary">${summary(data).map(([k, v]) => `<div><b>${esc(v)}</b>${esc(k)}</div>`).join('')}</div>
<section class="card"><h2>Deviations over time</h2><p class="legend">${legend}</p>${timelineSvg(data)}</section>
<section class="card"><h2>What talked to what</h2><p class="meta">Agents, the models and tools they used, the MCP servers behind the tools, and the endpoints, data and identities reached. Red: components with deviations in the period.</p>${graphSvg(data)}</section>
${tables(data).map(tableHtml).join('\n')}
</main></body></html>
`;
}
