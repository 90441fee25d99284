import { writeFileSync } from 'node:fs';
import { gatherFromAdmin, gatherFromDataDir, renderHtml, renderMarkdown } from '../report/index.js';

export const DEFAULT_TRACE_URL = 'http://localhost:16686/trace/{traceId}';

export interface ReportArgs {
  from?: string;
  to?: string;
  format?: string;
  out?: string;
  url?: string;
  'data-dir'?: string;
  'trace-url'?: string;
}

/** ISO 8601, `now`, or a time before now: `24h`, `7d`, `30m`. */
export function parseTime(s: string, nowMs: number): number {
  if (s === 'now') return nowMs;
  const rel = /^(\d+)([mhd])$/.exec(s);
  if (rel) return nowMs - Number(rel[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 'm' | 'h' | 'd'];
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) throw new Error(`${JSON.stringify(s)} is not a time: use ISO 8601 (2026-11-29T10:00:00Z), now, or a time before now (30m, 24h, 7d)`);
  return ms;
}

/**
 * `report [--from TIME (default: 24h before --to)] [--to TIME (default: now)] [--format html|md] [--out FILE] [--url ADMIN_URL | --data-dir DIR]
 * [--trace-url TEMPLATE]`: the evidence report for a period. Exit 0 written, 2 usage or read error.
 */
export async function reportCommand(args: ReportArgs, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const format = args.format ?? 'html';
  if (format !== 'html' && format !== 'md') {
    err(`report: --format must be html or md, got ${JSON.stringify(format)}\n`);
    return 2;
  }
  if (args.url && args['data-dir']) {
    err('report: give --url or --data-dir, not both\n');
    return 2;
  }
  try {
    const now = Date.now();
    const toMs = parseTime(args.to ?? 'now', now);
    const fromMs = args.from ? parseTime(args.from, now) : toMs - 86_400_000;
    if (fromMs >= toMs) throw new Error(`--from (${new Date(fromMs).toISOString()}) must be before --to (${new Date(toMs).toISOString()})`);
    const traceUrl = args['trace-url'] ?? process.env.AIBOM_TRACE_URL ?? DEFAULT_TRACE_URL;
    const data = args['data-dir']
      ? gatherFromDataDir(args['data-dir'], fromMs, toMs, traceUrl)
      : await gatherFromAdmin(args.url ?? `http://${process.env.AIBOM_ADMIN_ENDPOINT ?? '127.0.0.1:8888'}`, fromMs, toMs, traceUrl);
    const text = format === 'html' ? renderHtml(data) : renderMarkdown(data);
    if (args.out) {
      writeFileSync(args.out, text);
      out(`${args.out}: ${data.deviations.length} deviations, ${data.findings.length} findings, ${data.inventory.length} components, ${new Date(fromMs).toISOString()} to ${new Date(toMs).toISOString()}\n`);
    } else out(text);
    return 0;
  } catch (e) {
    err(`report: ${(e as Error).message}\n`);
    return 2;
  }
}
