import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Collector } from '../support/collector.js';
import { collectorLauncher, collectorMain, ROOT } from '../support/tools.js';

// bin/aibom-collector: settings that must be in place before node starts (bench/README.md, "Issue 11, the launcher").

const CONFIG = `receivers: { otlp: { protocols: { grpc: { endpoint: 127.0.0.1:0 } } } }
exporters: { debug: {} }
service:
  admin: { endpoint: \${ADMIN} }
  pipelines: { traces: { receivers: [otlp], exporters: [debug] } }
`;

const environ = (pid: number) => new Map(readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
const argv = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').filter(Boolean);

describe('the launcher', () => {
  let collector: Collector | undefined;
  afterEach(async () => {
    await collector?.stop();
    collector = undefined;
  });

  it('execs node on the built CLI with its malloc and heap settings: no shell stays behind', async () => {
    const env = { MALLOC_ARENA_MAX: undefined, MALLOC_MMAP_THRESHOLD_: undefined, NODE_OPTIONS: undefined };
    collector = await Collector.start(CONFIG, env);
    const pid = collector.proc.child.pid!;
    expect(realpathSync(`/proc/${pid}/exe`)).toBe(realpathSync(execFileSync('sh', ['-c', 'command -v node'], { encoding: 'utf8' }).trim()));
    const args = argv(pid);
    expect(args.slice(1, 2)).toEqual(['--max-semi-space-size=4']);
    expect(realpathSync(args[2]!)).toBe(realpathSync(collectorMain()));
    expect(args.slice(3)).toEqual(['run', '--config', collector.configPath]);
    const vars = environ(pid);
    expect(vars.get('MALLOC_ARENA_MAX')).toBe('2');
    expect(vars.get('MALLOC_MMAP_THRESHOLD_')).toBe('65536');
  });

  it("leaves the user's own settings as they are", async () => {
    collector = await Collector.start(CONFIG, { MALLOC_ARENA_MAX: '4', MALLOC_MMAP_THRESHOLD_: '131072', NODE_OPTIONS: '--max-semi-space-size=32' });
    const pid = collector.proc.child.pid!;
    expect(argv(pid).some((a) => a.startsWith('--max-semi-space-size'))).toBe(false);
    const vars = environ(pid);
    expect(vars.get('MALLOC_ARENA_MAX')).toBe('4');
    expect(vars.get('MALLOC_MMAP_THRESHOLD_')).toBe('131072');
    expect(vars.get('NODE_OPTIONS')).toBe('--max-semi-space-size=32');
  });

  it('works through a symlink, as npm links a bin', () => {
    const link = join(mkdtempSync(join(tmpdir(), 'aibom-bin-')), 'aibom-collector');
    symlinkSync(collectorLauncher(), link);
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    expect(execFileSync(link, ['--version'], { encoding: 'utf8' })).toContain(version);
  });
});
