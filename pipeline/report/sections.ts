import type { HistoryEntry } from '../../processors/history/index.js';
import { attrText, chainSteps, iso, traceUrl, type ReportData } from './model.js';

/** One table: a title, its header and rows of plain text (each renderer escapes for its format). */
export interface Table {
  title: string;
  intro: string;
  header: string[];
  rows: string[][];
  /** Per row, a link for the last cell (trace links). */
  links?: (string | undefined)[];
}

const comp = (e: HistoryEntry) => `${attrText(e, 'aibom.deviation.component.kind')}/${attrText(e, 'aibom.deviation.component.name')}`;

/** The headline numbers, in the order the page shows them. */
export function summary(data: ReportData): [string, string][] {
  const partial = (data.baselines ?? []).filter((b) => b.completeness !== 'complete').length;
  return [
    ['components at the end of the period', String(data.inventory.length)],
    ['deviations', String(data.deviations.length)],
    ['high or critical', String(data.deviations.filter((d) => /high|critical/.test(attrText(d, 'aibom.deviation.severity'))).length)],
    ['declared-vs-observed findings', String(data.findings.length)],
    ['baselines', data.baselines ? `${data.baselines.length} (${data.baselines.filter((b) => b.state === 'frozen').length} frozen, ${partial} partial)` : 'no baseline processor'],
    ['sensor gaps', String(data.gaps.length)],
  ];
}

/** The report's tables, shared by the HTML and Markdown forms so both say the same. */
export function tables(data: ReportData): Table[] {
  const out: Table[] = [];
  out.push({
    title: 'Deviations',
    intro: 'Every deviation in the period, with the execution chain that led to it and the trace that shows it.',
    header: ['time', 'severity', 'rule', 'family', 'component', 'observed', 'baseline', 'chain', 'trace'],
    rows: data.deviations.map((d) => [
      iso(d.timeMs),
      attrText(d, 'aibom.deviation.severity'),
      attrText(d, 'aibom.deviation.rule'),
      attrText(d, 'security_rule.category'),
      comp(d),
      attrText(d, 'aibom.deviation.observed'),
      attrText(d, 'aibom.deviation.fact'),
      chainSteps(d).map(([k, v]) => `${k}: ${v}`).join(' → '),
      d.traceId ?? '',
    ]),
    links: data.deviations.map((d) => (d.traceId ? traceUrl(data, d.traceId) : undefined)),
  });
  out.push({
    title: 'Inventory at the end of the period',
    intro: 'The runtime AI-BOM: what ran, first and last seen (last seen may be after the period when the component kept running).',
    header: ['kind', 'name', 'first seen', 'last seen', 'observations', 'source'],
    rows: [...data.inventory].sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name)).map((i) => [i.kind, i.name, i.firstSeen ?? '', i.lastSeen ?? '', i.observations === undefined ? '' : String(i.observations), i.source ?? '']),
  });
  out.push({
    title: 'Declared vs observed',
    intro: data.findings.length ? 'Findings of the AI-BOM processor against the declared AI-BOM.' : 'No finding in the period (or no declared AI-BOM configured: aibom processor `declared:`).',
    header: ['time', 'finding', 'kind', 'name', 'detail'],
    rows: data.findings.map((f) => [iso(f.timeMs), attrText(f, 'aibom.finding.type'), attrText(f, 'aibom.finding.kind'), attrText(f, 'aibom.finding.name'), attrText(f, 'aibom.finding.detail')]),
  });
  out.push({
    title: 'Baselines',
    intro: data.baselines ? 'State and completeness of each component\'s behavioural baseline (partial: the component was not fully watched, e.g. no kernel data).' : 'The collector runs no baseline processor.',
    header: ['component', 'state', 'completeness', 'observations', 'first seen', 'last seen'],
    rows: (data.baselines ?? []).map((b) => [`${b.component.kind}/${b.component.name}`, b.state, b.partialReason ? `${b.completeness} (${b.partialReason})` : b.completeness, String(b.observations), b.firstSeen ?? '', b.lastSeen ?? '']),
  });
  const cov: string[][] = data.gaps.map((g) => [
    'sensor gap',
    `${iso(Number(g.attributes['aibom.sensor.gap.start_unix_nano'] ?? 0) / 1e6 || g.timeMs)} for ${attrText(g, 'aibom.sensor.gap.duration_ms')} ms`,
    attrText(g, 'aibom.sensor.gap.reason') || (g.body ?? ''),
  ]);
  for (const c of data.coverage ?? []) cov.push(['counter', `${c.metric}{${Object.entries(c.labels).map(([k, v]) => `${k}=${v}`).join(',')}}`, String(c.value)]);
  for (const b of data.baselines ?? []) if (b.completeness !== 'complete') cov.push(['partially watched', `${b.component.kind}/${b.component.name}`, b.partialReason ?? b.completeness]);
  out.push({
    title: 'Coverage',
    intro: data.coverage ? 'What the controls could not see: sensor gaps, drops and refusals since the collector started (counters), components watched partially.' : 'What the controls could not see: sensor gaps and components watched partially (drop counters are only in a running collector: use --url).',
    header: ['what', 'where', 'detail'],
    rows: cov,
  });
  return out;
}
