import type { Section } from '../../pipeline/config/section.js';
import { checkEndpoint } from '../../pipeline/config/section.js';
import { redactSecrets } from '../../pipeline/redact.js';

/**
 * Config of the `otlp` (gRPC) and `otlphttp` exporters. Keys mirror the OpenTelemetry Collector's
 * exporters so a user can copy a block across; the differences are written in README.md.
 */
export interface TlsConfig {
  /** gRPC: send in plaintext. otlphttp: the URL scheme decides; this key is accepted and ignored for http:// */
  insecure: boolean;
  insecureSkipVerify: boolean;
  caFile: string;
  certFile: string;
  keyFile: string;
}

export interface QueueConfig {
  enabled: boolean;
  numConsumers: number;
  /** Capacity in items (spans or log records), not requests. */
  queueSize: number;
  /** Directory for the on-disk queue; '' keeps the queue in memory only. */
  storage: string;
}

export interface RetryConfig {
  enabled: boolean;
  initialIntervalMs: number;
  randomizationFactor: number;
  multiplier: number;
  maxIntervalMs: number;
  /** 0 = retry forever (until shutdown). */
  maxElapsedTimeMs: number;
}

export type Compression = 'gzip' | 'none';
export type Encoding = 'proto' | 'json';

export interface OtlpExporterConfig {
  protocol: 'grpc' | 'http';
  /** gRPC: host:port (an http:// or https:// prefix picks plaintext or TLS). HTTP: base URL. */
  endpoint: string;
  /** otlphttp only: full URLs that replace endpoint + /v1/traces, /v1/logs. */
  tracesEndpoint: string;
  logsEndpoint: string;
  encoding: Encoding;
  tls: TlsConfig;
  headers: Record<string, string>;
  compression: Compression;
  timeoutMs: number;
  /** How long shutdown keeps sending (and retrying) what is queued or in flight. */
  shutdownTimeoutMs: number;
  sendingQueue: QueueConfig;
  retryOnFailure: RetryConfig;
}

export const DEFAULT_GRPC_ENDPOINT = 'localhost:4317';
export const DEFAULT_HTTP_ENDPOINT = 'http://localhost:4318';
export const DEFAULT_COMPRESSION: Compression = 'gzip';
export const DEFAULT_ENCODING: Encoding = 'proto';
export const DEFAULT_TIMEOUT_MS = 5_000;
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
export const DEFAULT_QUEUE_ENABLED = true;
export const DEFAULT_NUM_CONSUMERS = 10;
export const DEFAULT_QUEUE_SIZE_ITEMS = 100_000;
export const DEFAULT_RETRY_ENABLED = true;
export const DEFAULT_INITIAL_INTERVAL_MS = 5_000;
export const DEFAULT_RANDOMIZATION_FACTOR = 0.5;
export const DEFAULT_MULTIPLIER = 1.5;
export const DEFAULT_MAX_INTERVAL_MS = 30_000;
export const DEFAULT_MAX_ELAPSED_TIME_MS = 300_000;

export function createDefaultConfig(protocol: 'grpc' | 'http'): OtlpExporterConfig {
  return {
    protocol,
    endpoint: protocol === 'grpc' ? DEFAULT_GRPC_ENDPOINT : DEFAULT_HTTP_ENDPOINT,
    tracesEndpoint: '',
    logsEndpoint: '',
    encoding: DEFAULT_ENCODING,
    tls: { insecure: false, insecureSkipVerify: false, caFile: '', certFile: '', keyFile: '' },
    headers: {},
    compression: DEFAULT_COMPRESSION,
    timeoutMs: DEFAULT_TIMEOUT_MS,
    shutdownTimeoutMs: DEFAULT_SHUTDOWN_TIMEOUT_MS,
    sendingQueue: {
      enabled: DEFAULT_QUEUE_ENABLED,
      numConsumers: DEFAULT_NUM_CONSUMERS,
      queueSize: DEFAULT_QUEUE_SIZE_ITEMS,
      storage: '',
    },
    retryOnFailure: {
      enabled: DEFAULT_RETRY_ENABLED,
      initialIntervalMs: DEFAULT_INITIAL_INTERVAL_MS,
      randomizationFactor: DEFAULT_RANDOMIZATION_FACTOR,
      multiplier: DEFAULT_MULTIPLIER,
      maxIntervalMs: DEFAULT_MAX_INTERVAL_MS,
      maxElapsedTimeMs: DEFAULT_MAX_ELAPSED_TIME_MS,
    },
  };
}

/** Reads the user's section over the defaults. The caller calls `section.done()` on the top level. */
export function readConfig(section: Section, protocol: 'grpc' | 'http'): OtlpExporterConfig {
  const d = createDefaultConfig(protocol);
  const endpoint = section.string('endpoint', d.endpoint);
  let tracesEndpoint = d.tracesEndpoint;
  let logsEndpoint = d.logsEndpoint;
  let encoding = d.encoding;
  if (protocol === 'grpc') {
    const hostPort = endpoint.replace(/^(?:https?|dns):\/{2,3}/, '');
    checkEndpoint(section, 'endpoint', hostPort);
  } else {
    checkUrl(section, 'endpoint', endpoint);
    tracesEndpoint = section.string('traces_endpoint', '');
    logsEndpoint = section.string('logs_endpoint', '');
    if (tracesEndpoint) checkUrl(section, 'traces_endpoint', tracesEndpoint);
    if (logsEndpoint) checkUrl(section, 'logs_endpoint', logsEndpoint);
    encoding = section.oneOf('encoding', ['proto', 'json'] as const, d.encoding);
  }

  const tlsSection = section.section('tls');
  const tls: TlsConfig = {
    insecure: tlsSection.bool('insecure', d.tls.insecure),
    insecureSkipVerify: tlsSection.bool('insecure_skip_verify', d.tls.insecureSkipVerify),
    caFile: tlsSection.string('ca_file', d.tls.caFile),
    certFile: tlsSection.string('cert_file', d.tls.certFile),
    keyFile: tlsSection.string('key_file', d.tls.keyFile),
  };
  if ((tls.certFile === '') !== (tls.keyFile === '')) tlsSection.error('cert_file', 'cert_file and key_file must be set together');
  tlsSection.done();

  const headers = section.stringMap('headers');
  const compression = section.oneOf('compression', ['gzip', 'none'] as const, d.compression);
  const timeoutMs = section.duration('timeout', d.timeoutMs);
  if (timeoutMs <= 0) section.error('timeout', 'must be greater than 0');
  const shutdownTimeoutMs = section.duration('shutdown_timeout', d.shutdownTimeoutMs);

  const q = section.section('sending_queue');
  const sendingQueue: QueueConfig = {
    enabled: q.bool('enabled', d.sendingQueue.enabled),
    numConsumers: q.int('num_consumers', d.sendingQueue.numConsumers, 1, 1000),
    queueSize: q.int('queue_size', d.sendingQueue.queueSize, 1),
    storage: q.string('storage', d.sendingQueue.storage),
  };
  if (sendingQueue.storage !== '' && !sendingQueue.enabled) q.error('storage', 'needs sending_queue.enabled: true');
  q.done();

  const r = section.section('retry_on_failure');
  const retryOnFailure: RetryConfig = {
    enabled: r.bool('enabled', d.retryOnFailure.enabled),
    initialIntervalMs: r.duration('initial_interval', d.retryOnFailure.initialIntervalMs),
    randomizationFactor: r.number('randomization_factor', d.retryOnFailure.randomizationFactor, 0, 1),
    multiplier: r.number('multiplier', d.retryOnFailure.multiplier, 1),
    maxIntervalMs: r.duration('max_interval', d.retryOnFailure.maxIntervalMs),
    maxElapsedTimeMs: r.duration('max_elapsed_time', d.retryOnFailure.maxElapsedTimeMs),
  };
  if (retryOnFailure.initialIntervalMs <= 0) r.error('initial_interval', 'must be greater than 0');
  if (retryOnFailure.maxIntervalMs < retryOnFailure.initialIntervalMs) r.error('max_interval', 'must not be smaller than initial_interval');
  r.done();

  return {
    protocol,
    endpoint,
    tracesEndpoint,
    logsEndpoint,
    encoding,
    tls,
    headers,
    compression,
    timeoutMs,
    shutdownTimeoutMs,
    sendingQueue,
    retryOnFailure,
  };
}

function checkUrl(section: Section, key: string, value: string): void {
  // An endpoint may carry userinfo (`https://user:password@host`): the message shows it redacted.
  const shown = JSON.stringify(redactSecrets(value));
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    section.error(key, `must be an http:// or https:// URL, got ${shown}`);
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    section.error(key, `must be an http:// or https:// URL, got ${shown}`);
  }
}
