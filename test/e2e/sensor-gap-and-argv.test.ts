import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { Collector } from '../support/collector.js';
import { freePorts } from '../support/ports.js';
import { Proc, waitFor } from '../support/process.js';
import { collectorMain, requireTool } from '../support/tools.js';

/**
 * The real collector and the real sensor on the real kernel. A sensor that dies is restarted and the gap
 * reaches the exporters through the embedded default's logs pipeline (enrich, correlate, batch); argv
 * secrets of a watched process reach no exporter, neither as log records nor as the spans correlate makes.
 */
requireTool('AIBOM_SENSOR', 'bpf/.output/aibom-sensor');
if (process.getuid?.() !== 0) throw new Error('these tests need root for the eBPF sensor (CI runs as root)');

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Child pids of `pid` (its threads' children files). */
function children(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
}

const fileText = (path: string): string => (existsSync(path) ? readFileSync(path, 'utf8') : '');

describe('kernel data through the whole collector', () => {
  test('embedded default: a killed sensor is restarted and its aibom.sensor.gap record reaches the file exporter', async () => {
    const data = tempDir('aibom-gap-');
    const [grpc, http, admin] = await freePorts(3);
    const proc = new Proc(process.execPath, [collectorMain(), 'run'], {
      env: {
        ...process.env,
        AIBOM_OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpc}`,
        AIBOM_OTLP_HTTP_ENDPOINT: `127.0.0.1:${http}`,
        AIBOM_ADMIN_ENDPOINT: `127.0.0.1:${admin}`,
        AIBOM_DATA_DIR: data,
      },
    });
    cleanup.push(() => proc.stop());
    const metric = async (name: string): Promise<number | undefined> => {
      const text = await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text();
      const m = new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(text);
      return m ? Number(m[1]) : undefined;
    };
    await waitFor(`the sensor up\n${proc.tail()}`, async () => ((await metric('aibom_ebpf_sensor_up')) === 1 ? true : undefined), 60_000, 200);
    const sensorPid = children(proc.child.pid!).find((p) => readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'aibom-sensor');
    expect(sensorPid, proc.tail()).toBeDefined();
    process.kill(sensorPid!, 'SIGKILL');
    const file = join(data, 'telemetry.jsonl');
    const line = await waitFor(`the gap record in ${file}\n${proc.tail()}`, () => fileText(file).split('\n').find((l) => l.includes('aibom.sensor.gap')), 30_000, 200);
    const rl = (JSON.parse(line) as { resourceLogs: { scopeLogs: { scope: { name: string }; logRecords: { eventName?: string; attributes: { key: string; value: Record<string, unknown> }[] }[] }[] }[] }).resourceLogs;
    const gap = rl.flatMap((r) => r.scopeLogs).find((sl) => sl.logRecords.some((rec) => rec.eventName === 'aibom.sensor.gap'))!;
    expect(gap.scope.name).toBe('aibom.sensor');
    const attrs = Object.fromEntries(gap.logRecords[0]!.attributes.map((a) => [a.key, Object.values(a.value)[0]]));
    expect(attrs['aibom.sensor.exit_signal']).toBe('SIGKILL');
    expect(attrs['aibom.sensor.gap.reason']).toBe('sensor_restart');
    expect(await metric('aibom_ebpf_sensor_restarts_total')).toBe(1);
  }, 120_000);

  test('argv with an API key, a password flag and a URL password: no exporter sees the values, the flags stay', async () => {
    const dir = tempDir('aibom-argv-');
    // A shell under a name the config watches from exec; the arguments after the script are only argv.
    const name = 'aibom-argv-sh';
    const sh = join(dir, name);
    mkdirSync(join(dir, 'out'));
    symlinkSync('/bin/sh', sh);
    const secrets = ['sk-live-0123456789abcdef', 'hunter2-pass', 'pa55w0rd-url'];
    const file = join(dir, 'out', 'telemetry.jsonl');
    const collector = await Collector.start(`
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
  ebpf:
    required: true
    tls: false
    monitor: { comms: [${name}] }
    batch: { timeout: 50ms }
processors:
  enrich:
  normalize:
  correlate:
    window: 2s
    settle: 200ms
  batch:
    timeout: 50ms
exporters:
  debug:
    verbosity: detailed
  file:
    path: ${file}
    flush_interval: 50ms
service:
  admin:
    endpoint: \${ADMIN}
  pipelines:
    traces:
      receivers: [otlp]
      processors: [enrich, normalize, correlate, batch]
      exporters: [debug, file]
    logs:
      receivers: [otlp, ebpf]
      processors: [enrich, correlate, batch]
      exporters: [debug, file]
`);
    cleanup.push(() => collector.stop());
    const run = new Proc(sh, ['-c', 'cat /etc/hostname >/dev/null', name, `--api-key=${secrets[0]}`, '--password', secrets[1]!, `https://bob:${secrets[2]}@example.com/x`]);
    expect(await run.exited).toBe(0);
    const pid = run.child.pid!;
    // The span correlate makes for the process's activity carries its (redacted) command line.
    const text = await waitFor(`a span of pid ${pid} in ${file}\n${collector.proc.tail()}`, () => {
      const t = fileText(file);
      return t.includes(`(pid ${pid})`) && t.includes('--api-key=[REDACTED]') ? t : undefined;
    }, 30_000, 200);
    await collector.stop();
    for (const s of secrets) {
      expect(text, 'file exporter').not.toContain(s);
      expect(collector.proc.stdout + collector.proc.stderr, 'debug exporter and log').not.toContain(s);
    }
    expect(text).toContain('"--password"');
    expect(text).toContain('https://bob:[REDACTED]@example.com/x');
  }, 120_000);
});
