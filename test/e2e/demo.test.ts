import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadInChromium } from '../support/chromium.js';
import { jaegerBin, requireTool, ROOT } from '../support/tools.js';

/**
 * `npm run demo` end to end, as a newcomer runs it (the built dist/demo/demo.js; `npm run demo` is tsc
 * then that): real eBPF sensor, real Jaeger, the LangChain.js reference agent, the fake LLM. Few
 * learning runs (AIBOM_DEMO_LEARN_RUNS) to keep CI time down. Also: Ctrl-C mid-way stops everything.
 */
jaegerBin();
requireTool('AIBOM_SENSOR', 'bpf/.output/aibom-sensor');
if (process.getuid?.() !== 0) throw new Error('the demo test needs root for the eBPF sensor (CI runs as root)');
const DEMO = join(ROOT, 'dist', 'demo', 'demo.js');
// eslint-disable-next-line no-control-regex
const plain = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '');

function runDemo(env: NodeJS.ProcessEnv, onOutput?: (out: string, kill: () => void) => void): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [DEMO], { env: { ...process.env, AIBOM_DEMO_KEEP: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const add = (d: Buffer) => {
      out += d.toString();
      onOutput?.(plain(out), () => child.kill('SIGINT'));
    };
    child.stdout.on('data', add);
    child.stderr.on('data', add);
    child.once('exit', (code) => resolve({ code, out: plain(out) }));
  });
}

async function closed(url: string): Promise<boolean> {
  return fetch(url).then(() => false, () => true);
}

describe('npm run demo', () => {
  test('learns, freezes, runs the prompt injection and prints the tree, deviations, AI-BOM diff, report and Jaeger URL; stops what it started', async () => {
    const t0 = Date.now();
    const { code, out } = await runDemo({ AIBOM_DEMO_LEARN_RUNS: '4' });
    expect(code, out).toBe(0);
    const seconds = Math.round((Date.now() - t0) / 1000);
    expect(out).toMatch(/4\/4 runs · \d+ components profiled/);
    expect(out).toMatch(/Frozen: \d+ baselines/);
    // The tree: tool spans with kernel activity (⚙) and deviations (⚠) under them.
    const tree = out.slice(out.indexOf('== The attack trace'), out.indexOf('== Deviations'));
    expect(tree, out).toMatch(/├─ (http_post|search_kb|read_text_file)\n(│  [├└]─ .*\n)*│  [├└]─ ⚙ /);
    expect(tree).toMatch(/⚠ deviation (tool-argument-anomaly|payload-size-anomaly)/);
    expect(out).toMatch(/\[high\] tool-argument-anomaly on tool\/search_kb: .*collection=customers/);
    expect(out).toMatch(/chain: prompt: I need help with my warranty claim → LLM: gpt-4o-mini → tool: search_kb/);
    expect(out).toMatch(/undeclared\s+tool\s+read_text_file/);
    const report = /(\/\S+evidence-report\.html): (\d+) deviations/.exec(out);
    expect(report, out).not.toBeNull();
    expect(Number(report![2])).toBeGreaterThan(0);
    const jaeger = /== Trace\n\s+(http:\/\/127\.0\.0\.1:\d+)\/trace\/([0-9a-f]{32})/.exec(out);
    expect(jaeger, out).not.toBeNull();
    expect(readFileSync(report![1]!, 'utf8')).toContain(`${jaeger![1]}/trace/${jaeger![2]}`);
    // Everything it started is gone: Jaeger's UI and the collector's admin listener no longer answer.
    const admin = /admin (http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
    expect(await closed(`${jaeger![1]}/api/services`)).toBe(true);
    expect(await closed(`${admin}/healthz`)).toBe(true);
    // The report of a real run, in a real browser.
    const shot = join(ROOT, 'test-results', 'demo-evidence-report.png');
    const { console: messages } = await loadInChromium(report![1]!, shot);
    expect(messages).toEqual([]);
    expect(existsSync(shot)).toBe(true);
    console.log(`demo: ${seconds} s with 4 learning runs`);
  }, 400_000);

  test('Ctrl-C while learning stops every process it started', async () => {
    let sent = false;
    const { code, out } = await runDemo({ AIBOM_DEMO_LEARN_RUNS: '40' }, (o, kill) => {
      if (!sent && /\d+\/40 runs/.test(o)) {
        sent = true;
        kill();
      }
    });
    expect(sent, out).toBe(true);
    expect(code).toBe(130);
    const admin = /admin (http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
    const ui = /Jaeger v2 \(in memory\): (http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
    expect(await closed(`${admin}/healthz`)).toBe(true);
    expect(await closed(`${ui}/api/services`)).toBe(true);
  }, 300_000);
});
