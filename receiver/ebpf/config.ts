import path from 'node:path';
import { packageRoot } from '../../pipeline/package-root.js';
import type { Section } from '../../pipeline/config/section.js';

/** Config of the eBPF receiver (`receivers.ebpf`). See README.md for the YAML shape. */
export interface EbpfReceiverConfig {
  /** spawn: start the sensor as a child; socket: listen on a Unix socket a separately started sensor connects to. */
  mode: 'spawn' | 'socket';
  /** true: an unavailable sensor fails start (the collector exits); false: one log line, OTLP keeps running. */
  required: boolean;
  /** In socket mode also the helper that reads a connection's peer credentials (`--peercred`). */
  sensor: { path: string };
  /** `sensorUid`: besides root, the uid a connecting sensor may run as. */
  socket: { path: string; sensorUid: number };
  /**
   * `discover`: also monitor processes other components recognise as AI workloads from their telemetry.
   * `envMarkers`: environment variable names (`NAME`, or `PREFIX*`) that make a process monitored from its
   * exec (and at start-up if already running), added to the sensor's built-in AI markers unless
   * `defaultEnvMarkers` is false.
   */
  monitor: { pids: number[]; comms: string[]; cgroups: string[]; all: boolean; discover: boolean; envMarkers: string[]; defaultEnvMarkers: boolean };
  /**
   * Host-wide shadow-AI signatures, checked in the kernel for processes nothing else watches (bpf/README.md
   * "Shadow AI"): a match is reported and the process watched from then on. The lists add to the sensor's
   * built-in ones unless `defaultSignatures` is false.
   */
  shadowAi: { enabled: boolean; defaultSignatures: boolean; providers: string[]; apiPaths: string[]; artifactPatterns: string[]; serverExecutables: string[] };
  ignorePaths: string[];
  credentialPaths: string[];
  defaultCredentialPaths: boolean;
  /** Bytes, a power of two >= 4 KiB. */
  ringBufferSize: number;
  statsIntervalMs: number;
  dedupeWindowMs: number;
  pollIntervalMs: number;
  /** Attach OpenSSL uprobes (TLS plaintext). */
  tls: boolean;
  sslLibraries: string[];
  verbose: boolean;
  /** Attach captured plaintext (redacted) as `aibom.payload.text`. Off by default: secrets never leave the host. */
  capturePayload: boolean;
  batch: { timeoutMs: number; maxEvents: number };
  /** Events held while the next consumer refuses; beyond it the oldest batches are dropped and counted. */
  maxPendingEvents: number;
  restart: { initialIntervalMs: number; maxIntervalMs: number };
  /** Longest wait for the sensor's `ready` at start (BPF load, uprobe symbol scans). */
  startTimeoutMs: number;
  /** Shutdown deadline: sensor stop plus flushing pending batches. */
  shutdownTimeoutMs: number;
  /** pid -> exec info entries kept for resource attributes. */
  processCacheSize: number;
}

export const DEFAULT_MODE = 'spawn';
export const DEFAULT_RING_BUFFER_SIZE = 4 * 1024 * 1024;
export const DEFAULT_STATS_INTERVAL_MS = 1000;
export const DEFAULT_DEDUPE_WINDOW_MS = 1000;
export const DEFAULT_POLL_INTERVAL_MS = 200;
export const DEFAULT_BATCH_TIMEOUT_MS = 200;
export const DEFAULT_BATCH_MAX_EVENTS = 2048;
export const DEFAULT_MAX_PENDING_EVENTS = 65_536;
export const DEFAULT_RESTART_INITIAL_INTERVAL_MS = 1000;
export const DEFAULT_RESTART_MAX_INTERVAL_MS = 30_000;
export const DEFAULT_START_TIMEOUT_MS = 30_000;
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5000;
export const DEFAULT_PROCESS_CACHE_SIZE = 16_384;
/** Longest comm the kernel keeps (TASK_COMM_LEN - 1). */
const COMM_MAX = 15;
/** A variable name, or a prefix ending in `*`; at most AIBOM_ENV_NAME_MAX - 2 characters (bpf/aibom-sensor.h). */
const ENV_MARKER = /^[A-Za-z_][A-Za-z0-9_]{0,61}\*?$/;

export function defaultSensorPath(): string {
  return path.join(packageRoot(), 'bpf', '.output', 'aibom-sensor');
}

export function createDefaultConfig(): EbpfReceiverConfig {
  return {
    mode: DEFAULT_MODE,
    required: false,
    sensor: { path: defaultSensorPath() },
    socket: { path: '', sensorUid: 0 },
    monitor: { pids: [], comms: [], cgroups: [], all: false, discover: true, envMarkers: [], defaultEnvMarkers: true },
    shadowAi: { enabled: true, defaultSignatures: true, providers: [], apiPaths: [], artifactPatterns: [], serverExecutables: [] },
    ignorePaths: [],
    credentialPaths: [],
    defaultCredentialPaths: true,
    ringBufferSize: DEFAULT_RING_BUFFER_SIZE,
    statsIntervalMs: DEFAULT_STATS_INTERVAL_MS,
    dedupeWindowMs: DEFAULT_DEDUPE_WINDOW_MS,
    pollIntervalMs: DEFAULT_POLL_INTERVAL_MS,
    tls: true,
    sslLibraries: [],
    verbose: false,
    capturePayload: false,
    batch: { timeoutMs: DEFAULT_BATCH_TIMEOUT_MS, maxEvents: DEFAULT_BATCH_MAX_EVENTS },
    maxPendingEvents: DEFAULT_MAX_PENDING_EVENTS,
    restart: { initialIntervalMs: DEFAULT_RESTART_INITIAL_INTERVAL_MS, maxIntervalMs: DEFAULT_RESTART_MAX_INTERVAL_MS },
    startTimeoutMs: DEFAULT_START_TIMEOUT_MS,
    shutdownTimeoutMs: DEFAULT_SHUTDOWN_TIMEOUT_MS,
    processCacheSize: DEFAULT_PROCESS_CACHE_SIZE,
  };
}

/** A host name, or `*SUFFIX` (any name ending so); as the sensor's DNS names, at most 253 bytes. */
const SHADOW_PROVIDER = /^(?:\*[A-Za-z0-9.-]{1,252}|[A-Za-z0-9][A-Za-z0-9.-]{0,252})$/;
/** What follows `POST ` (compared up to AIBOM_SHADOW_PATH_MAX = 64 bytes). */
const SHADOW_API_PATH = /^\/[\x21-\x7e]{0,63}$/;
/** `*SUFFIX`, e.g. `*.gguf`. */
const SHADOW_ARTIFACT = /^\*[^\0]{1,200}$/;

function readShadowAi(s: Section, def: EbpfReceiverConfig['shadowAi']): EbpfReceiverConfig['shadowAi'] {
  const sh = s.section('shadow_ai');
  const list = (key: string, re: RegExp, what: string): string[] => {
    const l = sh.stringList(key, []);
    l.forEach((v, i) => {
      if (!re.test(v)) sh.error(`${key}[${i}]`, `must be ${what}, got ${JSON.stringify(v)}`);
    });
    return l;
  };
  const out = {
    enabled: sh.bool('enabled', def.enabled),
    defaultSignatures: sh.bool('default_signatures', def.defaultSignatures),
    providers: list('providers', SHADOW_PROVIDER, 'a host name or *SUFFIX'),
    apiPaths: list('api_paths', SHADOW_API_PATH, 'a path starting with / of at most 64 bytes'),
    artifactPatterns: list('artifact_patterns', SHADOW_ARTIFACT, 'a file name suffix written *SUFFIX (e.g. *.gguf)'),
    serverExecutables: list('server_executables', /^[^\0/]{1,15}$/, `1..${COMM_MAX} bytes (the kernel's comm: an executable's basename)`),
  };
  sh.done();
  return out;
}

function absolutePaths(s: Section, key: string, allowHome: boolean): string[] {
  const list = s.stringList(key, []);
  list.forEach((p, i) => {
    if (!p.startsWith('/') && !(allowHome && p.startsWith('~/'))) {
      s.error(`${key}[${i}]`, `must be an absolute path${allowHome ? ' or start with ~/' : ''}, got ${JSON.stringify(p)}`);
    }
  });
  return list;
}

/** Reads `receivers.ebpf[/name]`; the caller closes the receiver's own section with `done()`. */
export function readConfig(s: Section): EbpfReceiverConfig {
  const def = createDefaultConfig();
  const mode = s.oneOf('mode', ['spawn', 'socket'] as const, def.mode);
  const required = s.bool('required', def.required);

  const sensorS = s.section('sensor');
  const sensorPath = sensorS.string('path', def.sensor.path);
  if (sensorPath === '') sensorS.error('path', 'must not be empty');
  sensorS.done();

  const socketS = s.section('socket');
  const socketPath = socketS.string('path', '');
  if (mode === 'socket' && socketPath === '') socketS.error('path', 'is required when mode is socket');
  else if (socketPath !== '' && !socketPath.startsWith('/')) socketS.error('path', `must be absolute, got ${JSON.stringify(socketPath)}`);
  else if (Buffer.byteLength(socketPath) > 107) socketS.error('path', 'is longer than a Unix socket path may be (107 bytes)');
  // The socket is bound as <dir>/.aibom-sock-XXXXXX/s before it is renamed into place.
  else if (socketPath !== '' && Buffer.byteLength(path.dirname(socketPath)) + 22 > 107) socketS.error('path', 'its directory is too long for the private bind directory (at most 85 bytes)');
  const sensorUid = socketS.int('sensor_uid', def.socket.sensorUid, 0, 2 ** 32 - 2);
  socketS.done();

  const mon = s.section('monitor');
  const rawPids = mon.raw('pids');
  const pids: number[] = [];
  if (rawPids !== undefined && rawPids !== null) {
    if (!Array.isArray(rawPids)) mon.error('pids', 'expected a list of process ids');
    else
      rawPids.forEach((p, i) => {
        if (typeof p === 'number' && Number.isInteger(p) && p > 0 && p < 2 ** 22 + 1) pids.push(p);
        else mon.error(`pids[${i}]`, `expected a positive process id, got ${JSON.stringify(p)}`);
      });
  }
  const comms = mon.stringList('comms', []);
  comms.forEach((c, i) => {
    if (c === '' || Buffer.byteLength(c) > COMM_MAX) mon.error(`comms[${i}]`, `must be 1..${COMM_MAX} bytes (the kernel's comm), got ${JSON.stringify(c)}`);
  });
  const cgroups = mon.stringList('cgroups', []);
  cgroups.forEach((c, i) => {
    if (!/^\d+$/.test(c) && !c.startsWith('/')) mon.error(`cgroups[${i}]`, `must be a cgroup v2 directory or a numeric id, got ${JSON.stringify(c)}`);
  });
  const all = mon.bool('all', false);
  const discover = mon.bool('discover', def.monitor.discover);
  const envMarkers = mon.stringList('env_markers', []);
  envMarkers.forEach((m, i) => {
    // Never echo a NAME=value: the value may be the secret itself.
    const got = m.includes('=') ? 'a NAME=value (only names are compared, values never read)' : JSON.stringify(m);
    if (!ENV_MARKER.test(m)) mon.error(`env_markers[${i}]`, `must be an environment variable name, or a prefix ending in *, of at most 62 characters, got ${got}`);
  });
  const defaultEnvMarkers = mon.bool('default_env_markers', def.monitor.defaultEnvMarkers);
  mon.done();

  const ringBufferSize = s.bytes('ring_buffer_size', def.ringBufferSize);
  if (ringBufferSize % 1024 !== 0 || ringBufferSize < 4096 || (ringBufferSize / 1024) & (ringBufferSize / 1024 - 1) || ringBufferSize > 2 ** 30) {
    s.error('ring_buffer_size', `must be a power of two between 4KiB and 1GiB, got ${ringBufferSize}`);
  }
  const statsIntervalMs = Math.round(s.duration('stats_interval', def.statsIntervalMs));
  const dedupeWindowMs = Math.round(s.duration('dedupe_window', def.dedupeWindowMs));
  const pollIntervalMs = Math.round(s.duration('poll_interval', def.pollIntervalMs));
  if (pollIntervalMs < 1) s.error('poll_interval', 'must be at least 1ms');

  const batchS = s.section('batch');
  const batch = {
    timeoutMs: batchS.duration('timeout', def.batch.timeoutMs),
    maxEvents: batchS.int('max_events', def.batch.maxEvents, 1, 1_000_000),
  };
  if (batch.timeoutMs <= 0) batchS.error('timeout', 'must be greater than 0');
  batchS.done();
  const maxPendingEvents = s.int('max_pending_events', Math.max(def.maxPendingEvents, 2 * batch.maxEvents), 1, 100_000_000);
  // The batch in flight cannot be dropped, so the bound must hold it and a new one.
  if (maxPendingEvents < 2 * batch.maxEvents) {
    s.error('max_pending_events', `must be at least 2 x batch.max_events (${2 * batch.maxEvents}), got ${maxPendingEvents}`);
  }

  const restartS = s.section('restart');
  const restart = {
    initialIntervalMs: restartS.duration('initial_interval', def.restart.initialIntervalMs),
    maxIntervalMs: restartS.duration('max_interval', def.restart.maxIntervalMs),
  };
  if (restart.initialIntervalMs <= 0) restartS.error('initial_interval', 'must be greater than 0');
  if (restart.maxIntervalMs < restart.initialIntervalMs) restartS.error('max_interval', 'must not be less than initial_interval');
  restartS.done();

  const config: EbpfReceiverConfig = {
    mode,
    required,
    sensor: { path: sensorPath },
    socket: { path: socketPath, sensorUid },
    monitor: { pids, comms, cgroups, all, discover, envMarkers, defaultEnvMarkers },
    shadowAi: readShadowAi(s, def.shadowAi),
    ignorePaths: absolutePaths(s, 'ignore_paths', false),
    credentialPaths: absolutePaths(s, 'credential_paths', true),
    defaultCredentialPaths: s.bool('default_credential_paths', def.defaultCredentialPaths),
    ringBufferSize,
    statsIntervalMs,
    dedupeWindowMs,
    pollIntervalMs,
    tls: s.bool('tls', def.tls),
    sslLibraries: absolutePaths(s, 'ssl_libraries', false),
    verbose: s.bool('verbose', def.verbose),
    capturePayload: s.bool('capture_payload', def.capturePayload),
    batch,
    maxPendingEvents,
    restart,
    startTimeoutMs: s.duration('start_timeout', def.startTimeoutMs),
    shutdownTimeoutMs: s.duration('shutdown_timeout', def.shutdownTimeoutMs),
    processCacheSize: s.int('process_cache_size', def.processCacheSize, 16, 10_000_000),
  };
  return config;
}

/**
 * The sensor's command line for a config. `ignorePids` are never reported (the collector itself);
 * `extraPids` are pids added at runtime (`monitorPid`), carried over a restart.
 */
export function sensorArgs(config: EbpfReceiverConfig, opts: { ignorePids?: readonly number[]; extraPids?: Iterable<number>; socketPath?: string } = {}): string[] {
  const a: string[] = [];
  const pids = new Set([...config.monitor.pids, ...(opts.extraPids ?? [])]);
  for (const p of pids) a.push('--pid', String(p));
  for (const c of config.monitor.comms) a.push('--comm', c);
  for (const c of config.monitor.cgroups) a.push('--cgroup', c);
  if (config.monitor.all) a.push('--all');
  for (const m of config.monitor.envMarkers) a.push('--env-marker', m);
  if (!config.monitor.defaultEnvMarkers) a.push('--no-default-env-markers');
  const sh = config.shadowAi;
  if (!sh.enabled) a.push('--no-shadow');
  else {
    if (!sh.defaultSignatures) a.push('--no-default-shadow');
    for (const p of sh.providers) a.push('--shadow-provider', p);
    for (const p of sh.apiPaths) a.push('--shadow-api-path', p);
    for (const p of sh.artifactPatterns) a.push('--shadow-artifact', p);
    for (const p of sh.serverExecutables) a.push('--shadow-server-exe', p);
  }
  for (const p of opts.ignorePids ?? []) a.push('--ignore-pid', String(p));
  for (const p of config.ignorePaths) a.push('--ignore-path', p);
  for (const p of config.credentialPaths) a.push('--credential-path', p);
  if (!config.defaultCredentialPaths) a.push('--no-default-credential-paths');
  if (!config.tls) a.push('--no-ssl');
  else for (const l of config.sslLibraries) a.push('--ssl-lib', l);
  a.push('--ringbuf-kb', String(config.ringBufferSize / 1024));
  a.push('--stats-interval-ms', String(config.statsIntervalMs));
  a.push('--dedupe-ms', String(config.dedupeWindowMs));
  a.push('--poll-ms', String(config.pollIntervalMs));
  if (opts.socketPath) a.push('--socket', opts.socketPath);
  if (config.verbose) a.push('-v');
  return a;
}
