import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import YAML from 'yaml';
import { ATTACK, freeze, normalRuns, settled, type Run } from '../../demo/reference-run.js';
import type { HistoryEntry } from '../../processors/history/entry.js';
import { agentCommand, APPS, runReferenceAgent, type ReferencePeers } from './apps.js';
import type { Collector } from './collector.js';
import { waitFor } from './process.js';

/**
 * The reference flow of demo/reference-run.ts (normal runs to learn, baselines frozen, then the prompt
 * injection) for configs that watch the agent by its executable name (`receivers.ebpf.monitor.comms`,
 * as the otel-config/examples do) rather than by the embedded default's environment markers.
 */

export interface AgentRun {
  traceId: string;
  ok: boolean;
  error?: string;
}

/** Normal runs the baselines learn from before they are frozen (as the alerting test and the demo do). */
export const LEARN_RUNS = 12;

/** The agent's executable name a config watches (its first `receivers.ebpf.monitor.comms`). */
export function watchedComm(configPath: string): string {
  const doc = YAML.parse(readFileSync(configPath, 'utf8')) as { receivers: { ebpf: { monitor: { comms: string[] } } } };
  return doc.receivers.ebpf.monitor.comms[0]!;
}

/** The LangChain.js reference agent (MCP servers over stdio) started as `comm`, the way a deployed agent has its own executable name. */
export async function runWatchedAgent(comm: string, peers: ReferencePeers, runs: Run[]): Promise<AgentRun[]> {
  const command = agentCommand(comm, process.execPath, join(tmpdir(), 'aibom-agent-bin'));
  const out = await runReferenceAgent<{ runs: AgentRun[] }>(command, [join(APPS, 'agent-js', 'agent.mjs')], peers, { AGENT_RUNS: JSON.stringify(runs) });
  return out.runs;
}

/** Normal runs learned by the collector at `admin`, then every baseline frozen (POST /v1/baselines/freeze). */
export async function learnAndFreeze(comm: string, peers: ReferencePeers, admin: { adminUrl: string }): Promise<void> {
  const t0 = Date.now();
  const runs = await runWatchedAgent(comm, peers, normalRuns(LEARN_RUNS));
  expect(runs.filter((r) => !r.ok), JSON.stringify(runs)).toEqual([]);
  await settled(admin);
  const frozen = await freeze(admin);
  expect(frozen.length).toBeGreaterThan(0);
  console.log(`learned from ${LEARN_RUNS} normal runs and froze ${frozen.length} baselines in ${Date.now() - t0} ms`);
}

/** The prompt-injection run; its trace id. */
export async function attackRun(comm: string, peers: ReferencePeers): Promise<string> {
  const [run] = await runWatchedAgent(comm, peers, [ATTACK]);
  expect(run!.ok, run!.error).toBe(true);
  return run!.traceId;
}

/** The deviation records the collector at `admin` kept in its history (GET /v1/history), as they left its detectors. */
export async function deviationsKept(admin: { adminUrl: string }): Promise<HistoryEntry[]> {
  const res = await fetch(`${admin.adminUrl}/v1/history`);
  if (!res.ok) throw new Error(`GET /v1/history: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { entries: HistoryEntry[] }).entries.filter((e) => e.kind === 'deviation');
}

/**
 * Waits until the provenance processor holds no open trace: it judges a trace `settle` (12 s) after the
 * trace's last agent span, so its deviations of a run come that long after the run.
 */
export async function provenanceJudged(c: Collector): Promise<void> {
  await waitFor('provenance to judge every trace it holds', async () => ((await c.metric('aibom_provenance_open_traces')) === 0 ? true : undefined), 60_000, 500);
}
