import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { ConfigErrors, Section } from '../../pipeline/config/section.js';
import { createDefaultConfig, defaultSensorPath, readConfig, sensorArgs } from './config.js';
import { ebpfReceiverFactory } from './factory.js';

const here = path.dirname(fileURLToPath(import.meta.url));

function read(raw: unknown): { config: ReturnType<typeof readConfig>; errors: string[] } {
  const errors = new ConfigErrors();
  const s = new Section(raw, 'receivers.ebpf', errors);
  const config = readConfig(s);
  s.done();
  return { config, errors: errors.list };
}

describe('ebpf receiver config', () => {
  test('defaults: spawn mode, sensor from the package, nothing captured', () => {
    const { config, errors } = read(null);
    expect(errors).toEqual([]);
    expect(config).toEqual(createDefaultConfig());
    expect(config.mode).toBe('spawn');
    expect(config.required).toBe(false);
    expect(config.capturePayload).toBe(false);
    expect(config.sensor.path).toBe(defaultSensorPath());
    expect(defaultSensorPath()).toBe(path.resolve(here, '../../bpf/.output/aibom-sensor'));
    expect(config.batch).toEqual({ timeoutMs: 200, maxEvents: 2048 });
    expect(config.maxPendingEvents).toBe(65_536);
    expect(config.restart).toEqual({ initialIntervalMs: 1000, maxIntervalMs: 30_000 });
    expect(ebpfReceiverFactory).toMatchObject({ type: 'ebpf', kind: 'receiver', signals: ['logs'] });
  });

  test('every key, and the sensor command line it makes', () => {
    const { config, errors } = read(parse(readFileSync(path.join(here, 'testdata/config.yaml'), 'utf8')));
    expect(errors).toEqual([]);
    expect(config.ringBufferSize).toBe(8 * 1024 * 1024);
    expect(config.restart).toEqual({ initialIntervalMs: 500, maxIntervalMs: 10_000 });
    expect(sensorArgs(config, { ignorePids: [99], extraPids: [5678, 777] })).toEqual([
      '--pid', '1234', '--pid', '5678', '--pid', '777',
      '--comm', 'python3', '--comm', 'node',
      '--cgroup', '/sys/fs/cgroup/agents', '--cgroup', '4242',
      '--env-marker', 'ACME_AGENT_TOKEN', '--env-marker', 'ACME_AI_*', '--no-default-env-markers',
      '--ignore-pid', '99',
      '--ignore-path', '/usr/lib/', '--ignore-path', '/proc/',
      '--credential-path', '/srv/secrets/', '--credential-path', '~/.openai',
      '--no-default-credential-paths',
      '--ssl-lib', '/opt/openssl/lib/libssl.so.3',
      '--ringbuf-kb', '8192',
      '--stats-interval-ms', '2000',
      '--dedupe-ms', '500',
      '--poll-ms', '20',
      '-v',
    ]);
    expect(sensorArgs({ ...createDefaultConfig(), tls: false, monitor: { ...createDefaultConfig().monitor, all: true } }, { socketPath: '/run/s.sock' })).toEqual([
      '--all', '--no-ssl', '--ringbuf-kb', '4096', '--stats-interval-ms', '1000', '--dedupe-ms', '1000', '--poll-ms', '200', '--socket', '/run/s.sock',
    ]);
  });

  test('errors name the exact path', () => {
    const { errors } = read({
      mode: 'kernel',
      monitor: { pids: [12, -1, 'x'], comms: ['a-very-long-process-name'], cgroups: ['relative'], env_markers: ['OK_NAME', 'OPENAI_API_KEY=sk', '*'], everything: true },
      ignore_paths: ['tmp/'],
      credential_paths: ['secrets'],
      ring_buffer_size: '3MiB',
      batch: { max_events: 100, timeout: 'soon' },
      max_pending_events: 150,
      restart: { initial_interval: '10s', max_interval: '1s' },
      capture_payloads: true,
    });
    expect(errors).toEqual([
      'receivers.ebpf.mode: must be one of spawn, socket, got string "kernel"',
      'receivers.ebpf.monitor.pids[1]: expected a positive process id, got -1',
      'receivers.ebpf.monitor.pids[2]: expected a positive process id, got "x"',
      'receivers.ebpf.monitor.comms[0]: must be 1..15 bytes (the kernel\'s comm), got "a-very-long-process-name"',
      'receivers.ebpf.monitor.cgroups[0]: must be a cgroup v2 directory or a numeric id, got "relative"',
      'receivers.ebpf.monitor.env_markers[1]: must be an environment variable name, or a prefix ending in *, of at most 62 characters, got a NAME=value (only names are compared, values never read)',
      'receivers.ebpf.monitor.env_markers[2]: must be an environment variable name, or a prefix ending in *, of at most 62 characters, got "*"',
      'receivers.ebpf.monitor: has invalid keys: everything',
      'receivers.ebpf.ring_buffer_size: must be a power of two between 4KiB and 1GiB, got 3145728',
      'receivers.ebpf.batch.timeout: expected a duration like "5s" or "200ms", got string "soon"',
      'receivers.ebpf.max_pending_events: must be at least 2 x batch.max_events (200), got 150',
      'receivers.ebpf.restart.max_interval: must not be less than initial_interval',
      'receivers.ebpf.ignore_paths[0]: must be an absolute path, got "tmp/"',
      'receivers.ebpf.credential_paths[0]: must be an absolute path or start with ~/, got "secrets"',
      'receivers.ebpf: has invalid keys: capture_payloads',
    ]);
  });

  test('socket mode needs an absolute socket path', () => {
    expect(read({ mode: 'socket' }).errors).toEqual(['receivers.ebpf.socket.path: is required when mode is socket']);
    expect(read({ mode: 'socket', socket: { path: 'rel.sock' } }).errors).toEqual(['receivers.ebpf.socket.path: must be absolute, got "rel.sock"']);
    expect(read({ mode: 'socket', socket: { path: '/run/aibom/sensor.sock' } }).errors).toEqual([]);
  });

  test('socket.sensor_uid: root only by default, one more uid when set; the bind directory must fit', () => {
    expect(read({ mode: 'socket', socket: { path: '/run/aibom/sensor.sock' } }).config.socket).toEqual({ path: '/run/aibom/sensor.sock', sensorUid: 0 });
    expect(read({ mode: 'socket', socket: { path: '/run/aibom/sensor.sock', sensor_uid: 998 } }).config.socket.sensorUid).toBe(998);
    expect(read({ mode: 'socket', socket: { path: '/run/s.sock', sensor_uid: -1 } }).errors).toEqual(['receivers.ebpf.socket.sensor_uid: must be between 0 and 4294967294, got -1']);
    const deep = `/${'d'.repeat(90)}/s.sock`;
    expect(read({ mode: 'socket', socket: { path: deep } }).errors).toEqual(['receivers.ebpf.socket.path: its directory is too long for the private bind directory (at most 85 bytes)']);
  });
});

describe('ebpf receiver config: shadow_ai', () => {
  test('on by default with the built-in signatures: no sensor option needed', () => {
    const { config } = read(null);
    expect(config.shadowAi).toEqual({ enabled: true, defaultSignatures: true, providers: [], apiPaths: [], artifactPatterns: [], serverExecutables: [] });
    expect(sensorArgs(config).filter((a) => a.includes('shadow'))).toEqual([]);
  });

  test('lists add to the built-ins, or replace them; off is --no-shadow', () => {
    const { config, errors } = read({ shadow_ai: { default_signatures: false, providers: ['api.example-llm.com', '*.llm.example.net'], api_paths: ['/v2/infer'], artifact_patterns: ['*.llamafile'], server_executables: ['my-llm-server'] } });
    expect(errors).toEqual([]);
    expect(sensorArgs(config).join(' ')).toContain('--no-default-shadow --shadow-provider api.example-llm.com --shadow-provider *.llm.example.net --shadow-api-path /v2/infer --shadow-artifact *.llamafile --shadow-server-exe my-llm-server');
    expect(sensorArgs(read({ shadow_ai: { enabled: false, providers: ['x.example'] } }).config)).toContain('--no-shadow');
    expect(sensorArgs(read({ shadow_ai: { enabled: false, providers: ['x.example'] } }).config)).not.toContain('--shadow-provider');
  });

  test('bad entries are precise errors', () => {
    const { errors } = read({ shadow_ai: { providers: ['bad host!'], api_paths: ['v1/chat'], artifact_patterns: ['.gguf'], server_executables: ['a-name-longer-than-15'] } });
    expect(errors).toEqual([
      'receivers.ebpf.shadow_ai.providers[0]: must be a host name or *SUFFIX, got "bad host!"',
      'receivers.ebpf.shadow_ai.api_paths[0]: must be a path starting with / of at most 64 bytes, got "v1/chat"',
      'receivers.ebpf.shadow_ai.artifact_patterns[0]: must be a file name suffix written *SUFFIX (e.g. *.gguf), got ".gguf"',
      "receivers.ebpf.shadow_ai.server_executables[0]: must be 1..15 bytes (the kernel's comm: an executable's basename), got \"a-name-longer-than-15\"",
    ]);
  });
});
