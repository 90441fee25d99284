import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { findFactory } from '../../pipeline/cli/components.js';
import { defaultConfigPath } from '../../pipeline/package-root.js';
import { parseServiceConfig } from '../../pipeline/config/service-config.js';
import { ConfigErrors, Section } from '../../pipeline/config/section.js';
import { findAttr, int64ToBigInt } from '../../pipeline/otlp/attributes.js';
import type { Span, TracesData } from '../../pipeline/otlp/types.js';
import { ATTR, CORRELATE_SCOPE } from '../../pipeline/semconv.js';
import { silentLogger } from '../../pipeline/telemetry/logger.js';
import { Metrics } from '../../pipeline/telemetry/metrics.js';
import { createDefaultConfig, readConfig, type CorrelateConfig } from './config.js';
import { CorrelateProcessor } from './correlate-processor.js';
import { defaultFoldConfig, Folder, globRule } from './fold.js';
import { at, kernelEvents, spans, T0, type ProcessFacts } from './testdata/builders.js';

const PID = 4242;
const VENV = '/srv/app/.venv/lib/python3.11/site-packages';

/** [path, rule it folds under (undefined = keeps its own span), root]. */
const TABLE: [string, string | undefined, string?][] = [
  [`${VENV}/langchain/__init__.py`, 'python_packages', VENV],
  [VENV, 'python_packages', VENV],
  ['/usr/lib/python3.11', 'interpreter_lib', '/usr/lib/python3.11'],
  [`${VENV}/pydantic_core/_pydantic_core.cpython-311-x86_64-linux-gnu.so`, 'python_packages', VENV],
  ['/usr/lib/python3/dist-packages/yaml/__init__.py', 'python_packages', '/usr/lib/python3/dist-packages'],
  ['/app/node_modules/@langchain/core/dist/index.js', 'node_modules', '/app/node_modules'],
  ['/app/node_modules/a/node_modules/b/index.js', 'node_modules', '/app/node_modules'],
  ['/usr/lib/python3.11/json/__pycache__/decoder.cpython-311.pyc', 'interpreter_lib', '/usr/lib/python3.11'],
  ['/root/.pyenv/versions/3.12.1/lib/python3.12/os.py', 'interpreter_lib', '/root/.pyenv/versions/3.12.1/lib/python3.12'],
  ['/usr/local/lib/node/x.js', 'interpreter_lib', '/usr/local/lib/node'],
  ['/srv/app/__pycache__/tools.cpython-311.pyc', 'python_bytecode', '/srv/app/__pycache__'],
  ['/lib/x86_64-linux-gnu/libssl.so.3', 'shared_libraries', ''],
  ['/usr/lib/x86_64-linux-gnu/libffi.so', 'shared_libraries', ''],
  ['/etc/ld.so.cache', 'shared_libraries', ''],
  ['/usr/lib/locale/C.utf8/LC_CTYPE', 'locale', ''],
  ['/usr/share/zoneinfo/Europe/Paris', 'locale', ''],
  ['/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache', 'locale', ''],
  ['/etc/localtime', 'locale', ''],
  ['/proc/self/maps', 'system_files', ''],
  [`/proc/${PID}/status`, 'process_table', ''],
  [`/proc/${PID}/maps`, 'system_files', ''],
  ['/proc/thread-self/attr/current', 'system_files', ''],
  ['/sys/fs/cgroup/cpu.max', 'system_files', ''],
  ['/proc', 'process_table', ''],
  ['/proc/777/stat', 'process_table', ''],
  ['/proc/777/status', 'process_table', ''],
  ['/usr/lib/ssl/openssl.cnf', 'tls_trust', ''],
  ['/etc/ssl/certs/ca-certificates.crt', 'tls_trust', ''],
  ['/dev/null', 'system_files', ''],
  ['/dev/urandom', 'system_files', ''],
  ['/etc/hosts', 'name_resolution_config', ''],
  ['/etc/resolv.conf', 'name_resolution_config', ''],
  ['/etc/nsswitch.conf', 'name_resolution_config', ''],
  // Evidence: another process's /proc, data the agent reads, secrets, configuration, devices that are not plumbing.
  ['/proc/1/environ', undefined],
  ['/proc/777/cmdline', undefined],
  ['/proc/777/maps', undefined],
  ['/proc/777/fd/3', undefined],
  ['/etc/ssl/private/server.key', undefined],
  ['/srv/app/data/customers.csv', undefined],
  ['/srv/app/data/faq.md', undefined],
  ['/srv/app/identity/support-agent.token', undefined],
  ['/etc/passwd', undefined],
  ['/etc/shadow', undefined],
  ['/etc/hostsfile', undefined],
  ['/dev/sda', undefined],
  ['/srv/app/agent.py', undefined],
  ['/srv/app/lib/pythonic/notes.txt', undefined],
  ['/srv/app/site-packages-notes/x.txt', undefined],
  ['/root/.ssh/id_ed25519', undefined],
  ['/home/bob/my.socket.so.notes', undefined],
];

describe('built-in fold rules', () => {
  const folder = new Folder(defaultFoldConfig());
  test.each(TABLE)('%s -> %s', (path, rule, root) => {
    const f = folder.classify(path, PID, false, undefined);
    expect(f?.rule.name).toBe(rule);
    if (rule) expect(f!.root).toBe(root);
  });

  test('a credential read never folds, even under a package root', () => {
    expect(folder.classify(`${VENV}/certifi/cacert.pem`, PID, true, undefined)).toBeUndefined();
    expect(folder.classify(`${VENV}/certifi/cacert.pem`, PID, false, undefined)?.rule.name).toBe('python_packages');
  });

  test('a failed open folds as a missing-file probe only for ENOENT', () => {
    expect(folder.classify('/srv/app/mod.py', PID, false, 'ENOENT')?.rule.name).toBe('missing_files');
    expect(folder.classify('/srv/app/data/secret.csv', PID, false, 'EACCES')).toBeUndefined();
    expect(folder.classify('/root/.aws/credentials', PID, true, 'ENOENT')).toBeUndefined();
  });

  test('disabled: nothing folds', () => {
    const off = new Folder({ ...defaultFoldConfig(), enabled: false });
    expect(off.classify(`${VENV}/x.py`, PID, false, 'ENOENT')).toBeUndefined();
  });
});

describe('the embedded default config', () => {
  test('folds with the built-in rules', () => {
    const service = parseServiceConfig(readFileSync(defaultConfigPath(), 'utf8'), findFactory, {});
    const { fold } = service.processors.get('correlate')!.config as CorrelateConfig;
    expect(fold).toEqual(defaultFoldConfig());
    expect(new Folder(fold).classify(`${VENV}/x.py`, PID, false, undefined)?.rule.name).toBe('python_packages');
  });
});

describe('user fold rules', () => {
  test('globs: * is one segment, ** any depth, the root is the part before **', () => {
    const r = globRule('app cache', ['/home/*/.cache/**', '/opt/app/*.tmp']);
    expect(r.rootOf('/home/bob/.cache/pip/http/a/b', 1)).toBe('/home/bob/.cache');
    expect(r.rootOf('/home/bob/x/.cache/a', 1)).toBeUndefined();
    expect(r.rootOf('/opt/app/1.tmp', 1)).toBe('/opt/app');
    expect(r.rootOf('/opt/app/sub/1.tmp', 1)).toBeUndefined();
    expect(r.rootOf('/opt/app/1.tmp.bak', 1)).toBeUndefined();
  });

  test('read from config: tried before the defaults, which can be turned off', () => {
    const folder = new Folder(configOf({ fold: { defaults: false, rules: [{ name: 'models', paths: ['/models/**'] }] } }).fold);
    expect(folder.classify('/models/llama/weights.bin', PID, false, undefined)).toMatchObject({ root: '/models', rule: { name: 'models' } });
    expect(folder.classify(`${VENV}/x.py`, PID, false, 'ENOENT')).toBeUndefined();
  });

  test('bad rules are errors naming the key', () => {
    expect(errorsOf({ fold: { rules: [{ name: 'x', paths: ['relative/**'] }, { paths: ['/a/**'] }, { name: 'y' }], sample: 3 } })).toEqual([
      'correlate.fold.rules[0].paths: must be absolute globs (or start with **), got "relative/**"',
      'correlate.fold.rules[1].name: is required',
      'correlate.fold.rules[2].paths: must list at least one glob',
      'correlate.fold: has invalid keys: sample',
    ]);
    expect(errorsOf({ fold: { rules: { name: 'x' } } })).toEqual(['correlate.fold.rules: expected a list of { name, paths }']);
    expect(errorsOf({ fold: { enabled: 'no', sample_paths: 0 } })).toEqual(['correlate.fold.enabled: expected true or false, got string "no"', 'correlate.fold.sample_paths: must be between 1 and 1000, got 0']);
  });
});

function read(raw: unknown): { config: CorrelateConfig; errors: string[] } {
  const errors = new ConfigErrors();
  const s = new Section(raw, 'correlate', errors);
  const config = readConfig(s);
  s.done();
  return { config, errors: errors.list };
}

const errorsOf = (raw: unknown) => read(raw).errors;

function configOf(raw: unknown): CorrelateConfig {
  const { config, errors } = read(raw);
  expect(errors).toEqual([]);
  return config;
}

/** One tool span of an agent whose MCP server (a child process) does its start-up, then reads data. */
async function runMcpServer(events: Parameters<typeof kernelEvents>[1], config: Partial<CorrelateConfig> = {}, agentEvents: Parameters<typeof kernelEvents>[1] = []): Promise<Span[]> {
  const made: TracesData[] = [];
  const p = new CorrelateProcessor({ id: 'c', name: '', logger: silentLogger(), metrics: new Metrics() }, { ...createDefaultConfig(), ...config }, {
    traces: { consume: async (d) => void made.push(d) },
    logs: { consume: async () => {} },
  }, () => Number(T0) + 10_000);
  await p.traces.consume(spans('agent', 100, [{ trace: 'a1', id: '1', name: 'read_text_file', from: 0, to: 5000, attributes: { 'openinference.span.kind': 'TOOL' } }]));
  await p.logs.consume(kernelEvents(AGENT, agentEvents));
  await p.logs.consume(kernelEvents(MCP_SERVER, events));
  await p.shutdown();
  return made.flatMap((t) => t.resourceSpans.flatMap((rs) => rs.scopeSpans.filter((ss) => ss.scope?.name === CORRELATE_SCOPE).flatMap((ss) => ss.spans)));
}

const AGENT: ProcessFacts = { pid: 100, ppid: 1, comm: 'python3', exe: '/usr/bin/python3.11' };
const MCP_SERVER: ProcessFacts = { pid: 300, ppid: 100, comm: 'python3', exe: '/usr/bin/python3.11', args: ['python3', 'mcp_server.py'] };

const open = (ms: number, path: string, extra: Record<string, string | number | boolean> = {}) => ({ kind: 'open' as const, ms, attributes: { [ATTR.filePath]: path, ...extra } });

describe('folded spans', () => {
  const startUp = [
    { kind: 'exec' as const, ms: 10, attributes: { [ATTR.processExecutablePath]: '/usr/bin/python3.11' } },
    ...Array.from({ length: 212 }, (_, i) => open(20 + i, `${VENV}/pkg${i % 50}/m${i}.py`)),
    ...Array.from({ length: 40 }, (_, i) => open(300 + i, `${VENV}/pkg${i % 50}/m${i}.py`)), // the same modules again
    open(400, '/lib/x86_64-linux-gnu/libc.so.6'),
    open(401, '/lib/x86_64-linux-gnu/libssl.so.3'),
    open(402, '/etc/ld.so.cache'),
    open(410, '/srv/app/mod_a.py', { [ATTR.errorType]: 'ENOENT', [ATTR.fileResult]: -2 }),
    open(411, '/srv/app/mod_b.py', { [ATTR.errorType]: 'ENOENT', [ATTR.fileResult]: -2 }),
    open(420, '/etc/hosts'),
    open(500, '/srv/app/identity/support-agent.token', { [ATTR.identityCredential]: true }),
    open(510, '/srv/app/data/customers.csv'),
    open(511, '/srv/app/data/faq.md'),
    { kind: 'connect' as const, ms: 520, attributes: { [ATTR.networkPeerAddress]: '10.0.0.9', [ATTR.networkPeerPort]: 443 } },
    { kind: 'dns' as const, ms: 519, attributes: { [ATTR.dnsQuestionName]: 'exfil.example' } },
  ];

  test('plumbing becomes one span per parent and root, with count, distinct paths, root and a bounded sample; evidence keeps its spans', async () => {
    const made = await runMcpServer(startUp);
    const names = made.map((s) => s.name).sort();
    expect(names).toEqual([
      'connect 10.0.0.9:443',
      'dns exfil.example',
      'exec /usr/bin/python3.11',
      `load 212 modules under ${VENV}`,
      'load 3 shared libraries',
      'open /etc/hosts',
      'open /srv/app/data/customers.csv',
      'open /srv/app/data/faq.md',
      'open /srv/app/identity/support-agent.token',
      'probe 2 missing files',
    ]);
    const modules = made.find((s) => s.name.startsWith('load 212'))!;
    expect(findAttr(modules.attributes, ATTR.foldRule)).toBe('python_packages');
    expect(findAttr(modules.attributes, ATTR.fileDirectory)).toBe(VENV);
    expect(findAttr(modules.attributes, ATTR.fileDistinctPaths)).toBe(212);
    expect(findAttr(modules.attributes, ATTR.kernelCount)).toBe(252);
    expect(findAttr(modules.attributes, ATTR.foldSamplePaths)).toEqual(Array.from({ length: 10 }, (_, i) => `${VENV}/pkg${i % 50}/m${i}.py`));
    expect(findAttr(modules.attributes, ATTR.filePath)).toBeUndefined();
    const exec = made.find((s) => s.name.startsWith('exec'))!;
    expect(made.find((s) => s.name.startsWith('load 212'))!.parentSpanId).toEqual(exec.spanId);
    const token = made.find((s) => s.name.endsWith('.token'))!;
    expect(findAttr(token.attributes, ATTR.identityCredential)).toBe(true);
    expect(findAttr(token.attributes, ATTR.filePath)).toBe('/srv/app/identity/support-agent.token');
  });

  test('fold: { enabled: false } gives every distinct file its own span', async () => {
    const made = await runMcpServer(startUp, { fold: { ...defaultFoldConfig(), enabled: false } });
    expect(made.filter((s) => s.name.startsWith('open ')).length).toBe(212 + 3 + 2 + 1 + 3);
  });

  test("a child's fork and exit are told by its process span: nesting, exit code and end time", async () => {
    const made = await runMcpServer([...startUp, { kind: 'exit', ms: 900, attributes: { [ATTR.processExitCode]: 0 } }], {}, [{ kind: 'fork', ms: 5, attributes: { [ATTR.processChildPid]: MCP_SERVER.pid } }]);
    expect(made.filter((s) => s.name === 'fork' || s.name.startsWith('exit'))).toEqual([]);
    const exec = made.find((s) => s.name.startsWith('exec'))!;
    expect(findAttr(exec.attributes, ATTR.processExitCode)).toBe(0);
    // Its exec happened here: the process span says so (baseline: an executable its parent ran).
    expect(findAttr(exec.attributes, ATTR.processExecUnderParent)).toBe(true);
    expect(int64ToBigInt(exec.endTimeUnixNano)).toBe(at(900));
    // A fork whose child left no span keeps its own, as does the exit of a process that has no span of this build.
    const lone = await runMcpServer([], {}, [{ kind: 'fork', ms: 5, attributes: { [ATTR.processChildPid]: 999 } }, { kind: 'exit', ms: 4000, attributes: { [ATTR.processExitCode]: 1 } }]);
    expect(lone.map((s) => s.name).sort()).toEqual(['exit 1', 'fork']);
  });

  test('sample_paths bounds the listed paths', async () => {
    const made = await runMcpServer(startUp, { fold: { ...defaultFoldConfig(), samplePaths: 2 } });
    expect(findAttr(made.find((s) => s.name.startsWith('load 3 shared'))!.attributes, ATTR.foldSamplePaths)).toEqual(['/lib/x86_64-linux-gnu/libc.so.6', '/lib/x86_64-linux-gnu/libssl.so.3']);
  });
});
