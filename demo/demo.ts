#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reportCommand } from '../pipeline/cli/report-command.js';
import type { HistoryEntry } from '../processors/history/index.js';
import { chainSteps } from '../pipeline/report/model.js';
import { ATTACK, freeze, normalRuns, ROOT, runAgent, settled, startCollector, startJaeger, startPeers, stopAll, waitFor } from './reference-run.js';
import { renderTree, traceSpans } from './trace-tree.js';

/**
 * `npm run demo`: the product in two minutes. aibom-collector on its embedded default (plus a local
 * Jaeger when .ci/install-tools.sh built one), the reference agent learning on normal runs, baselines
 * frozen, the prompt injection run, and what the collector made of it, printed here.
 * AIBOM_DEMO_LEARN_RUNS sets the normal runs (default 24); AIBOM_DEMO_KEEP=1 keeps Jaeger and the
 * collector up until Ctrl-C (the default on a terminal) so the trace can be opened.
 */
const LEARN_RUNS = Number(process.env.AIBOM_DEMO_LEARN_RUNS ?? 24);
const BATCH = 4;
const bold = (s: string) => `\u001b[1m${s}\u001b[0m`;
const say = (s = '') => process.stdout.write(`${s}\n`);
const step = (s: string) => say(`\n${bold(`== ${s}`)}`);

async function main(): Promise<number> {
  const root = process.getuid?.() === 0;
  if (!root) say(bold('Not running as root: the eBPF sensor cannot load, so this demo runs without kernel data (no process, file, network activity under the tool spans, fewer deviations). Run `sudo npm run demo` for the whole picture.'));
  const data = mkdtempSync(join(tmpdir(), 'aibom-demo-'));
  const startedAt = Date.now();
  step('Starting');
  const jaeger = await startJaeger();
  say(jaeger ? `Jaeger v2 (in memory): ${jaeger.ui}` : 'No Jaeger built (.tools/bin/jaeger): traces stay in the collector\'s file output.');
  // The embedded default exports to its log and a file only; with Jaeger, the default's own file plus one otlp exporter.
  const c = await startCollector(join(data, 'data'), jaeger?.otlpGrpc);
  say(`aibom-collector on the embedded default${jaeger ? ' + an otlp/jaeger traces exporter' : ''}: admin ${c.adminUrl}, OTLP gRPC 127.0.0.1:${c.otlpGrpcPort}, data ${c.dataDir}`);
  const peers = await startPeers();
  say(`Reference scenario: LangChain.js support agent, fake LLM :${peers.llmPort}, knowledge base :${peers.kbPort}, ticket API :${peers.ticketPort}, MCP servers over stdio`);

  step(`Learning: ${LEARN_RUNS} normal runs`);
  const runs = normalRuns(LEARN_RUNS);
  for (let i = 0; i < runs.length; i += BATCH) {
    const out = await runAgent(peers, c, runs.slice(i, i + BATCH));
    const failed = out.filter((r) => !r.ok);
    if (failed.length) throw new Error(`a normal run failed: ${failed[0]!.error}`);
    const res = (await (await fetch(`${c.adminUrl}/v1/baselines`)).json()) as { profiles: { observations: number }[] };
    say(`  ${Math.min(i + BATCH, runs.length)}/${runs.length} runs · ${res.profiles.length} components profiled · ${res.profiles.reduce((n, p) => n + p.observations, 0)} observations`);
  }
  await settled(c);
  const frozen = await freeze(c);
  say(`Frozen: ${frozen.length} baselines (POST /v1/baselines/freeze)`);

  step(`Prompt injection: "${ATTACK.prompt}" (a knowledge-base document tells the agent to export the customer list)`);
  // One normal run first in the same agent process: the collector starts watching a process once its
  // first spans arrive (the SDK exports in batches), so the attack that follows is watched from its start.
  const attack = (await runAgent(peers, c, [...normalRuns(1), ATTACK])).at(-1);
  if (!attack?.ok) throw new Error(`the attack run failed: ${attack?.error}`);
  // The trace's deviations and kernel spans come as it settles (kernel spans ~1-2 s after their tool
  // span, provenance once the trace was quiet for its settle time, 12 s by default): wait until neither
  // moved for 15 s.
  const attackDeviations = async () => ((await (await fetch(`${c.adminUrl}/v1/history`)).json()) as { entries: HistoryEntry[] }).entries.filter((e) => e.kind === 'deviation' && e.traceId === attack.traceId);
  const telemetry = join(c.dataDir, 'telemetry.jsonl');
  let seen = '';
  let since = Date.now();
  const all = await waitFor('the attack trace to settle', async () => {
    const d = await attackDeviations();
    const now = `${d.length}/${traceSpans(telemetry, attack.traceId).length}`;
    if (now !== seen) [seen, since] = [now, Date.now()];
    return d.length > 0 && Date.now() - since >= 15_000 ? d : undefined;
  }, 120_000, 1000);
  say(`  settled: ${all.length} deviations, ${seen.split('/')[1]} spans`);

  step(`The attack trace ${attack.traceId}`);
  say(renderTree(traceSpans(join(c.dataDir, 'telemetry.jsonl'), attack.traceId)));

  step(`Deviations (${all.length})`);
  for (const d of all) {
    const a = d.attributes;
    say(`${bold(`[${String(a['aibom.deviation.severity'])}] ${String(a['aibom.deviation.rule'])}`)} on ${String(a['aibom.deviation.component.kind'])}/${String(a['aibom.deviation.component.name'])}: ${String(a['aibom.deviation.observed'])}`);
    say(`    baseline: ${String(a['aibom.deviation.fact'])}`);
    say(`    chain: ${chainSteps(d).map(([k, v]) => `${k}: ${v.length > 80 ? `${v.slice(0, 79)}…` : v}`).join(' → ')}`);
  }

  step('AI-BOM: declared vs what ran (aibom-collector aibom diff)');
  const diff = spawnSync(process.execPath, [join(ROOT, 'dist', 'pipeline', 'cli', 'main.js'), 'aibom', 'diff', '--declared', join(ROOT, 'demo', 'declared-aibom.yaml'), '--observed', `${c.adminUrl}/v1/aibom`], { encoding: 'utf8' });
  say(diff.stdout.trimEnd() || diff.stderr.trimEnd());

  step('Evidence report');
  const report = join(data, 'evidence-report.html');
  await reportCommand({ url: c.adminUrl, from: new Date(startedAt - 60_000).toISOString(), out: report, ...(jaeger ? { 'trace-url': `${jaeger.ui}/trace/{traceId}` } : {}) }, (s) => say(`  ${s.trimEnd()}`), (s) => say(s));
  say(`  Markdown for a ticket: aibom-collector report --url ${c.adminUrl} --format md`);

  writeFileSync(join(data, 'collector.log'), c.proc.out);
  say(`  the collector's log: ${join(data, 'collector.log')}`);

  step('Trace');
  say(jaeger ? `  ${jaeger.ui}/trace/${attack.traceId}` : `  no Jaeger: the spans are in ${join(c.dataDir, 'telemetry.jsonl')}`);
  if (jaeger && (process.env.AIBOM_DEMO_KEEP === '1' || (process.stdout.isTTY && process.env.AIBOM_DEMO_KEEP !== '0'))) {
    say('\nJaeger and the collector stay up so you can open the trace; Ctrl-C stops everything.');
    await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  }
  return 0;
}

// The first reason to stop wins (Ctrl-C, then the run failing because its agent was stopped, exits 130),
// and nothing exits before every started process is gone.
let stopping: { code: number; done: Promise<void> } | undefined;
async function cleanup(code: number): Promise<never> {
  stopping ??= { code, done: stopAll() };
  await stopping.done;
  process.exit(stopping.code);
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void cleanup(130));

if (!existsSync(join(ROOT, 'test', 'apps', 'node_modules'))) {
  process.stderr.write('test/apps is not installed: run .ci/install-tools.sh first (README, set-up)\n');
  process.exit(2);
}
main().then(
  (code) => cleanup(code),
  (err: unknown) => {
    if (!stopping) process.stderr.write(`demo failed: ${(err as Error).message}\n`);
    return cleanup(1);
  },
);
