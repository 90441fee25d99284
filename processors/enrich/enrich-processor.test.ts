import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import YAML from 'yaml';
import { ConfigErrors, Section } from '../../pipeline/config/section.js';
import type { Consumers } from '../../pipeline/consumer.js';
import { readMachineId } from '../../pipeline/machine-id.js';
import { attrs, findAttr, type AttributeValue } from '../../pipeline/otlp/attributes.js';
import type { LogsData, Resource, TracesData } from '../../pipeline/otlp/types.js';
import { ATTR } from '../../pipeline/semconv.js';
import { silentLogger } from '../../pipeline/telemetry/logger.js';
import { Metrics } from '../../pipeline/telemetry/metrics.js';
import { createDefaultConfig, readConfig, type EnrichConfig } from './config.js';
import { EnrichProcessor } from './enrich-processor.js';
import { enrichProcessorFactory } from './factory.js';

const FAKE_PROC = fileURLToPath(new URL('./testdata/proc', import.meta.url));
const DOCKER_ID = 'd2f1c5e4b3a29180d2f1c5e4b3a29180d2f1c5e4b3a29180d2f1c5e4b3a29180';
const CONTAINERD_ID = '7c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d';
const CRIO_ID = '0b9a8c7d6e5f40312b9a8c7d6e5f40312b9a8c7d6e5f40312b9a8c7d6e5f4031';
const CGROUPFS_ID = '5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f';
const HOST_ID = 'c0ffee00c0ffee00c0ffee00c0ffee00';

const resource = (r: Record<string, AttributeValue | undefined>): Resource => ({ attributes: attrs(r) });
const read = (r: Resource) => Object.fromEntries((r.attributes ?? []).map((kv) => [kv.key, findAttr([kv], kv.key)]));

describe('enrich config', () => {
  test('defaults, and testdata/config.yaml over them', () => {
    expect(createDefaultConfig()).toEqual({ procPath: '/proc', cacheSize: 4096, cacheTtlMs: 60_000 });
    const errors = new ConfigErrors();
    const raw = YAML.parse(readFileSync(new URL('./testdata/config.yaml', import.meta.url), 'utf8'));
    const s = new Section(raw, 'processors.enrich', errors);
    expect(readConfig(s)).toEqual({ procPath: '/host/proc', cacheSize: 1024, cacheTtlMs: 30_000 });
    s.done();
    expect(errors.list).toEqual([]);
  });

  test('bad values and unknown keys name the key', () => {
    const errors = new ConfigErrors();
    const s = new Section({ proc_path: 'proc', cache_size: 0, cache_ttl: '0s', cache_tll: '1m' }, 'processors.enrich', errors);
    enrichProcessorFactory.readConfig(s);
    s.done();
    expect(errors.list).toEqual([
      'processors.enrich.cache_size: must be between 1 and 9007199254740991, got 0',
      'processors.enrich.proc_path: must be an absolute path, got "proc"',
      'processors.enrich.cache_ttl: must be greater than 0',
      'processors.enrich: has invalid keys: cache_tll',
    ]);
  });

  test('factory: type enrich, traces and logs', () => {
    expect(enrichProcessorFactory.type).toBe('enrich');
    expect(enrichProcessorFactory.signals).toEqual(['traces', 'logs']);
  });
});

describe('enrich processor', () => {
  let clock: number;
  let metrics: Metrics;
  let traces: TracesData[];
  let logs: LogsData[];
  const next: Consumers = {
    traces: { consume: async (d) => void traces.push(d) },
    logs: { consume: async (d) => void logs.push(d) },
  };
  const make = (over: Partial<EnrichConfig> = {}) => {
    metrics = new Metrics();
    return new EnrichProcessor({ id: 'enrich', name: '', logger: silentLogger(), metrics }, { ...createDefaultConfig(), procPath: FAKE_PROC, ...over }, next, { now: () => clock, hostname: 'node-1', hostId: HOST_ID });
  };
  const skipped = (reason: string, signal = 'traces') => metrics.value(metrics.registry.getSingleMetric('aibom_enrich_skipped_resources_total') as never, { reason, signal });
  const enrichedCount = (signal = 'traces') => metrics.value(metrics.registry.getSingleMetric('aibom_enrich_enriched_resources_total') as never, { signal });

  beforeEach(() => {
    clock = 1_000_000;
    traces = [];
    logs = [];
  });

  test.each([
    ['docker', 4242, { [ATTR.processExecutableName]: 'python3', [ATTR.processCommandArgs]: ['python3', 'agent.py', '--serve'] }, { [ATTR.containerId]: DOCKER_ID }],
    [
      'containerd in a pod (pod name from HOSTNAME)',
      4343,
      { [ATTR.processExecutableName]: 'node', [ATTR.processCommandArgs]: ['/usr/local/bin/node', '/app/agent.mjs'] },
      { [ATTR.containerId]: CONTAINERD_ID, [ATTR.k8sPodUid]: '3f1c6a52-9d1e-4b7a-8c55-0e2f1a9b7c10', [ATTR.k8sPodName]: 'support-agent-7d9f8-x2k4q', [ATTR.k8sNamespaceName]: 'ai-agents' },
    ],
    [
      'cri-o in a pod (POD_NAME, POD_NAMESPACE)',
      4444,
      { [ATTR.processExecutableName]: 'mcp-server' },
      { [ATTR.containerId]: CRIO_ID, [ATTR.k8sPodUid]: 'b7e2a4c1-0f3d-4e5a-9b8c-7d6e5f4a3b21', [ATTR.k8sPodName]: 'mcp-fs-0', [ATTR.k8sNamespaceName]: 'tools' },
    ],
    ['kubepods cgroupfs, environment unreadable: no pod name', 4545, { [ATTR.processCommandArgs]: ['java', '-jar', '/app/agent.jar'] }, { [ATTR.containerId]: CGROUPFS_ID, [ATTR.k8sPodUid]: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d' }],
  ])('%s', async (_name, pid, process, added) => {
    const p = make();
    const r = resource({ [ATTR.serviceName]: 'agent', [ATTR.processPid]: pid, ...process });
    const before = read(r);
    await p.traces.consume({ resourceSpans: [{ resource: r, scopeSpans: [] }] });
    expect(traces).toHaveLength(1);
    expect(read(r)).toEqual({ ...before, [ATTR.hostId]: HOST_ID, ...added });
    expect(await enrichedCount()).toBe(1);
  });

  test('never overwrites what the SDK set; a resource with container.id is left alone', async () => {
    const p = make();
    const podNamed = resource({ [ATTR.processPid]: 4343, [ATTR.processExecutableName]: 'node', [ATTR.k8sPodName]: 'from-sdk' });
    const withContainer = resource({ [ATTR.processPid]: 4242, [ATTR.containerId]: 'sdk-container' });
    await p.logs.consume({ resourceLogs: [{ resource: podNamed, scopeLogs: [] }, { resource: withContainer, scopeLogs: [] }] });
    expect(read(podNamed)[ATTR.k8sPodName]).toBe('from-sdk');
    expect(read(podNamed)[ATTR.containerId]).toBe(CONTAINERD_ID);
    expect(podNamed.attributes!.filter((kv) => kv.key === ATTR.k8sPodName)).toHaveLength(1);
    expect(read(withContainer)).toEqual({ [ATTR.processPid]: 4242, [ATTR.containerId]: 'sdk-container' });
    expect(logs).toHaveLength(1);
    expect(await enrichedCount('logs')).toBe(1);
    expect(await skipped('has_container_id', 'logs')).toBe(1);
  });

  test('credentials in the command line an SDK reported are redacted after the identity check, on every resource', async () => {
    const p = make();
    const secret = 'sk-live-0123456789abcdef';
    const agent = resource({ [ATTR.processPid]: 4646, [ATTR.processExecutableName]: 'python3', [ATTR.processCommandArgs]: ['python3', 'agent.py', `--api-key=${secret}`] });
    const noPid = resource({ [ATTR.processCommandArgs]: ['node', 'a.js', '--token', 'abc'], 'process.command_line': `node a.js https://u:${secret}@h/x` });
    await p.traces.consume({ resourceSpans: [agent, noPid].map((r) => ({ resource: r, scopeSpans: [] })) });
    expect(read(agent)[ATTR.containerId]).toBe(DOCKER_ID); // the check saw /proc's command line, secret and all
    expect(read(agent)[ATTR.processCommandArgs]).toEqual(['python3', 'agent.py', '--api-key=[REDACTED]']);
    expect(read(noPid)[ATTR.processCommandArgs]).toEqual(['node', 'a.js', '--token', '[REDACTED]']);
    expect(read(noPid)['process.command_line']).toBe('node a.js https://u:[REDACTED]@h/x');
    expect(JSON.stringify(traces)).not.toContain(secret);
    // The same resource again (SDKs resend it with every batch): the check still passes on the redacted form.
    await p.traces.consume({ resourceSpans: [{ resource: resource({ [ATTR.processPid]: 4646, [ATTR.processCommandArgs]: ['python3', 'agent.py', '--api-key=[REDACTED]'] }), scopeSpans: [] }] });
    expect(await enrichedCount()).toBe(2);
  });

  test('the pid must be the process the telemetry describes', async () => {
    const p = make();
    const cases = [
      resource({ [ATTR.processPid]: 4242, [ATTR.processExecutableName]: 'node' }), // another program under that pid
      resource({ [ATTR.processPid]: 4242, [ATTR.processCommandArgs]: ['python3', 'other.py'] }),
      resource({ [ATTR.processPid]: 9999, [ATTR.processExecutableName]: 'python3' }), // no such pid here
      resource({ [ATTR.serviceName]: 'x' }), // no pid
    ];
    const copies = cases.map(read);
    await p.traces.consume({ resourceSpans: cases.map((r) => ({ resource: r, scopeSpans: [] })) });
    expect(cases.map(read)).toEqual(copies);
    expect(await skipped('other_process')).toBe(2);
    expect(await skipped('no_process')).toBe(1);
    expect(await skipped('no_pid')).toBe(1);
  });

  test('host.name must be this host, or the hostname the process sees in its container', async () => {
    const p = make();
    const thisHost = resource({ [ATTR.processPid]: 4242, [ATTR.hostName]: 'node-1' });
    const containerHostname = resource({ [ATTR.processPid]: 4343, [ATTR.hostName]: 'support-agent-7d9f8-x2k4q' });
    const elsewhere = resource({ [ATTR.processPid]: 4444, [ATTR.hostName]: 'node-2' });
    await p.traces.consume({ resourceSpans: [thisHost, containerHostname, elsewhere].map((r) => ({ resource: r, scopeSpans: [] })) });
    expect(read(thisHost)[ATTR.containerId]).toBe(DOCKER_ID);
    expect(read(containerHostname)[ATTR.containerId]).toBe(CONTAINERD_ID);
    expect(read(elsewhere)[ATTR.containerId]).toBeUndefined();
    expect(await skipped('other_host')).toBe(1);
  });

  test('cached per pid until the time to live ends (pids get reused); bounded', async () => {
    const { cpSync, mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const proc = mkdtempSync(`${tmpdir()}/enrich-proc-`);
    try {
      cpSync(FAKE_PROC, proc, { recursive: true });
      const p = make({ procPath: proc, cacheTtlMs: 10_000, cacheSize: 2 });
      const r = () => resource({ [ATTR.processPid]: 4242, [ATTR.processExecutableName]: 'python3', [ATTR.hostId]: HOST_ID });
      const first = r();
      p.enrich(first);
      // The process ends and the pid is reused by a host process: the cached identity still holds...
      writeFileSync(`${proc}/4242/cgroup`, '0::/user.slice/session-1.scope\n');
      const cached = r();
      expect(p.enrich(cached)).toBe('enriched');
      // ...until the time to live ends.
      clock += 10_000;
      expect(p.enrich(r())).toBe('not_in_container');
      // Beyond cache_size the least recently used pid is read again.
      writeFileSync(`${proc}/4242/cgroup`, `0::/system.slice/docker-${DOCKER_ID}.scope\n`);
      p.enrich(resource({ [ATTR.processPid]: 4343 }));
      p.enrich(resource({ [ATTR.processPid]: 4444 }));
      expect(p.enrich(r())).toBe('enriched');
    } finally {
      rmSync(proc, { recursive: true, force: true });
    }
  });

  test('shutdown works without start and twice; no next consumer is a permanent error', async () => {
    const p = new EnrichProcessor({ id: 'enrich', name: '', logger: silentLogger(), metrics: new Metrics() }, createDefaultConfig(), {});
    await p.shutdown();
    await p.shutdown();
    await expect(p.traces.consume({ resourceSpans: [] })).rejects.toThrow(/no next consumer for traces/);
  });
});

describe('enrich processor on this machine (real /proc)', () => {
  let child: ChildProcess;
  beforeEach(async () => {
    child = spawn('sleep', ['30'], { stdio: 'ignore' });
    await new Promise((resolve) => child.once('spawn', resolve));
  });
  afterEach(() => {
    child.kill();
  });

  const run = () => {
    const metrics = new Metrics();
    return new EnrichProcessor({ id: 'enrich', name: '', logger: silentLogger(), metrics }, createDefaultConfig(), {});
  };

  test('the test’s own child: the check passes; outside a container only host.id is added, the machine-id kernel spans carry', () => {
    const p = run();
    const r = () => resource({ [ATTR.processPid]: child.pid!, [ATTR.processExecutableName]: 'sleep', [ATTR.processCommandArgs]: ['sleep', '30'], [ATTR.hostName]: hostname() });
    const noHostId = r();
    const before = read(noHostId);
    expect(p.enrich(noHostId)).toBe('enriched');
    expect(read(noHostId)).toEqual({ ...before, [ATTR.hostId]: readMachineId() });
    expect(readMachineId()).toMatch(/\S/);
    // What an SDK's host detector already said stays: nothing to add.
    const withHostId = resource({ ...before, [ATTR.hostId]: 'from-sdk' });
    expect(p.enrich(withHostId)).toBe('not_in_container');
    expect(read(withHostId)[ATTR.hostId]).toBe('from-sdk');
  });

  test('the check fails for another program or command line under that pid', () => {
    const p = run();
    expect(p.enrich(resource({ [ATTR.processPid]: child.pid!, [ATTR.processExecutableName]: 'python3' }))).toBe('other_process');
    expect(p.enrich(resource({ [ATTR.processPid]: child.pid!, [ATTR.processCommandArgs]: ['sleep', '31'] }))).toBe('other_process');
    expect(p.enrich(resource({ [ATTR.processPid]: child.pid!, [ATTR.hostName]: 'not-this-host' }))).toBe('other_host');
  });
});
