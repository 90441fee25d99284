import { checkEndpoint, type Section } from '../../pipeline/config/section.js';

/**
 * Config of the OTLP receiver. Keys mirror the OpenTelemetry Collector's otlpreceiver, so a
 * `receivers.otlp` block can be copied over; what we do not implement is an error, not ignored.
 */
export interface OtlpReceiverConfig {
  protocols: {
    /** Absent: gRPC is disabled. */
    grpc?: GrpcConfig;
    /** Absent: HTTP is disabled. */
    http?: HttpConfig;
  };
  auth: AuthConfig;
  /** Bytes of request bodies held at once over both protocols (RequestBudget); at least each protocol's request limit. */
  maxInFlightBytes: number;
}

export interface GrpcConfig {
  endpoint: string;
  /** Largest accepted message, after decompression, in MiB. */
  maxRecvMsgSizeMib: number;
  /** Connections open at once, per bound address; more are closed as they arrive. */
  maxConnections: number;
  keepalive: GrpcKeepalive;
  tls?: TlsConfig;
}

/** grpc-go's `keepalive.ServerParameters` (the collector's `keepalive.server_parameters`); 0 = never. */
export interface GrpcKeepalive {
  /** A connection without a call for this long gets GOAWAY and is closed. */
  maxConnectionIdleMs: number;
  /** A connection this old (±10%) gets GOAWAY: no new calls, running ones finish. */
  maxConnectionAgeMs: number;
  /** After the age's GOAWAY, how long running calls have before the connection is cut. */
  maxConnectionAgeGraceMs: number;
}

export interface HttpConfig {
  endpoint: string;
  /** Largest accepted body in bytes, both as sent and after decompression. */
  maxRequestBodySize: number;
  tracesUrlPath: string;
  logsUrlPath: string;
  /** Connections open at once; more are closed as they arrive. */
  maxConnections: number;
  /** A connection must send a request's headers within this long (slowloris); 0 = no limit. */
  readHeaderTimeoutMs: number;
  /** ... and the whole request, body included, within this long; 0 = no limit. */
  readTimeoutMs: number;
  /** A keep-alive connection with no request for this long is closed; 0 = never (bounded by max_connections only). */
  idleTimeoutMs: number;
  tls?: TlsConfig;
}

export interface TlsConfig {
  certFile: string;
  keyFile: string;
  /** When set, clients must present a certificate signed by this CA (mTLS). */
  clientCaFile?: string;
}

export interface AuthConfig {
  /** When non-empty, every request must carry `authorization: Bearer <token>`. */
  bearerToken: string;
}

export const DEFAULT_GRPC_ENDPOINT = 'localhost:4317';
export const DEFAULT_HTTP_ENDPOINT = 'localhost:4318';
/**
 * Above grpc-go's (and the collector's) 4 MiB: an agent's spans carry its conversations (OpenInference
 * and OpenLLMetry record prompts and tool results), so one export of a busy agent is megabytes. The
 * reference agent's OpenInference-instrumented LangChain.js exports 6-11 MB requests at 20 runs in one
 * process (bench/sensor-overhead.ts agent --collector --spans), and 4 MiB refused nine in ten of its spans.
 * The in-flight budget (max_in_flight_bytes) bounds what large requests may hold.
 */
export const DEFAULT_MAX_RECV_MSG_SIZE_MIB = 64;
/** As for gRPC (confighttp's default is 20 MiB). */
export const DEFAULT_MAX_REQUEST_BODY_SIZE = 64 * 1024 * 1024;
/** Four requests at the default limit at once; most exports are kilobytes, so thousands in practice. */
export const DEFAULT_MAX_IN_FLIGHT_BYTES = 256 * 1024 * 1024;
export const DEFAULT_TRACES_URL_PATH = '/v1/traces';
export const DEFAULT_LOGS_URL_PATH = '/v1/logs';
/**
 * Connections per protocol: far above what the agents of one host open (an SDK keeps one or two),
 * low enough that the cap costs at most ~N × the idle connection's memory (README.md, "Connections").
 */
export const DEFAULT_MAX_CONNECTIONS = 1000;
/** grpc-go's default is never; five minutes frees what a gone agent left open, and every gRPC client reconnects on GOAWAY. */
export const DEFAULT_MAX_CONNECTION_IDLE_MS = 5 * 60_000;
/** Slowloris: a request's headers are a few hundred bytes; ten seconds is generous on any network. */
export const DEFAULT_READ_HEADER_TIMEOUT_MS = 10_000;
/** A body trickling slower than ~1.1 MB/s at the 64 MiB limit is cut (Node's default is 300 s). */
export const DEFAULT_READ_TIMEOUT_MS = 60_000;
/** Longer than the SDKs' 5 s export interval, so the connection is reused (Node's 5 s default races it). */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
/** Far above any sane export, low enough that `<< 20` stays exact. */
const MAX_RECV_MSG_SIZE_MIB_LIMIT = 2047;
/** Beyond what one process's file descriptors allow in practice. */
const MAX_CONNECTIONS_LIMIT = 1_000_000;
/** setTimeout's limit (~24.8 days); longer timeouts would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function defaultGrpcConfig(): GrpcConfig {
  return {
    endpoint: DEFAULT_GRPC_ENDPOINT,
    maxRecvMsgSizeMib: DEFAULT_MAX_RECV_MSG_SIZE_MIB,
    maxConnections: DEFAULT_MAX_CONNECTIONS,
    keepalive: { maxConnectionIdleMs: DEFAULT_MAX_CONNECTION_IDLE_MS, maxConnectionAgeMs: 0, maxConnectionAgeGraceMs: 0 },
  };
}

export function defaultHttpConfig(): HttpConfig {
  return {
    endpoint: DEFAULT_HTTP_ENDPOINT,
    maxRequestBodySize: DEFAULT_MAX_REQUEST_BODY_SIZE,
    tracesUrlPath: DEFAULT_TRACES_URL_PATH,
    logsUrlPath: DEFAULT_LOGS_URL_PATH,
    maxConnections: DEFAULT_MAX_CONNECTIONS,
    readHeaderTimeoutMs: DEFAULT_READ_HEADER_TIMEOUT_MS,
    readTimeoutMs: DEFAULT_READ_TIMEOUT_MS,
    idleTimeoutMs: DEFAULT_IDLE_TIMEOUT_MS,
  };
}

/**
 * Both protocols on their default endpoints, no TLS, no auth. `readConfig` starts from these
 * values, but only enables the protocols the user lists under `protocols` (as the collector does).
 */
export function createDefaultConfig(): OtlpReceiverConfig {
  return { protocols: { grpc: defaultGrpcConfig(), http: defaultHttpConfig() }, auth: { bearerToken: '' }, maxInFlightBytes: DEFAULT_MAX_IN_FLIGHT_BYTES };
}

/**
 * Reads `receivers.otlp[/name]`. Records every problem on `section.errors`; the caller calls
 * `section.done()` on the receiver's own section, so this only closes the sections below it.
 */
export function readConfig(section: Section): OtlpReceiverConfig {
  const protocols = section.section('protocols');
  // `grpc:` with nothing after it is YAML null: the protocol is enabled with its defaults.
  const listed = new Set(protocols.keys());
  const config: OtlpReceiverConfig = { protocols: {}, auth: readAuth(section.section('auth')), maxInFlightBytes: section.bytes('max_in_flight_bytes', DEFAULT_MAX_IN_FLIGHT_BYTES) };
  if (listed.has('grpc')) config.protocols.grpc = readGrpc(protocols.section('grpc'));
  if (listed.has('http')) config.protocols.http = readHttp(protocols.section('http'));
  if (!config.protocols.grpc && !config.protocols.http) {
    section.errors.add(protocols.path, 'must enable at least one protocol (grpc, http)');
  }
  // A request the budget could never hold would be refused as retryable forever.
  const largest = Math.max(config.protocols.grpc ? config.protocols.grpc.maxRecvMsgSizeMib * 1024 * 1024 : 0, config.protocols.http?.maxRequestBodySize ?? 0);
  if (config.maxInFlightBytes < largest) section.error('max_in_flight_bytes', `must be at least the largest request a protocol accepts (${largest} bytes)`);
  protocols.done();
  return config;
}

function readGrpc(s: Section): GrpcConfig {
  const def = defaultGrpcConfig();
  const endpoint = s.string('endpoint', def.endpoint);
  checkEndpoint(s, 'endpoint', endpoint);
  const config: GrpcConfig = {
    endpoint,
    maxRecvMsgSizeMib: s.int('max_recv_msg_size_mib', def.maxRecvMsgSizeMib, 1, MAX_RECV_MSG_SIZE_MIB_LIMIT),
    maxConnections: s.int('max_connections', def.maxConnections, 1, MAX_CONNECTIONS_LIMIT),
    keepalive: readKeepalive(s, def.keepalive),
  };
  const tls = readTls(s);
  if (tls) config.tls = tls;
  s.done();
  return config;
}

function readHttp(s: Section): HttpConfig {
  const def = defaultHttpConfig();
  const endpoint = s.string('endpoint', def.endpoint);
  checkEndpoint(s, 'endpoint', endpoint);
  const maxRequestBodySize = s.bytes('max_request_body_size', def.maxRequestBodySize);
  if (maxRequestBodySize === 0) s.error('max_request_body_size', 'must be greater than 0');
  const config: HttpConfig = {
    endpoint,
    maxRequestBodySize,
    tracesUrlPath: readUrlPath(s, 'traces_url_path', def.tracesUrlPath),
    logsUrlPath: readUrlPath(s, 'logs_url_path', def.logsUrlPath),
    maxConnections: s.int('max_connections', def.maxConnections, 1, MAX_CONNECTIONS_LIMIT),
    readHeaderTimeoutMs: timeout(s, 'read_header_timeout', def.readHeaderTimeoutMs),
    readTimeoutMs: timeout(s, 'read_timeout', def.readTimeoutMs),
    idleTimeoutMs: timeout(s, 'idle_timeout', def.idleTimeoutMs),
  };
  if (config.readTimeoutMs > 0 && config.readHeaderTimeoutMs > config.readTimeoutMs) {
    s.error('read_header_timeout', `must not exceed read_timeout (${config.readTimeoutMs} ms), the whole request's limit`);
  }
  if (config.tracesUrlPath === config.logsUrlPath) {
    s.error('logs_url_path', `must differ from traces_url_path (both are ${JSON.stringify(config.tracesUrlPath)})`);
  }
  const tls = readTls(s);
  if (tls) config.tls = tls;
  s.done();
  return config;
}

/** `keepalive.server_parameters`; the client-ping keys (`time`, `timeout`) and `enforcement_policy` are not implemented. */
function readKeepalive(grpc: Section, def: GrpcKeepalive): GrpcKeepalive {
  const keepalive = grpc.section('keepalive');
  const s = keepalive.section('server_parameters');
  const config: GrpcKeepalive = {
    maxConnectionIdleMs: timeout(s, 'max_connection_idle', def.maxConnectionIdleMs),
    maxConnectionAgeMs: timeout(s, 'max_connection_age', def.maxConnectionAgeMs),
    maxConnectionAgeGraceMs: timeout(s, 'max_connection_age_grace', def.maxConnectionAgeGraceMs),
  };
  s.done();
  keepalive.done();
  return config;
}

/** A duration where 0 means "never" (as in grpc-go and net/http), at most what a Node timer holds. */
function timeout(s: Section, key: string, defMs: number): number {
  const ms = s.duration(key, defMs);
  if (ms !== 0 && (ms < 1 || ms > MAX_TIMER_MS)) {
    s.error(key, `must be 0 (never) or between 1ms and ${Math.floor(MAX_TIMER_MS / 3_600_000)}h, got ${ms} ms`);
    return defMs;
  }
  return Math.round(ms);
}

/** Like the collector, a missing leading slash is added ("v1/traces" -> "/v1/traces"). */
function readUrlPath(s: Section, key: string, def: string): string {
  const raw = s.string(key, def);
  if (raw === '' || /[\s?#]/.test(raw)) {
    s.error(key, `must be a URL path like ${JSON.stringify(def)}, got ${JSON.stringify(raw)}`);
    return def;
  }
  return raw.startsWith('/') ? raw : `/${raw}`;
}

/** TLS 1.2 is the floor (Node's default, and the collector's), so there is no min_version key. */
function readTls(parent: Section): TlsConfig | undefined {
  if (!parent.keys().includes('tls')) return undefined;
  const s = parent.section('tls');
  const certFile = s.string('cert_file', '');
  const keyFile = s.string('key_file', '');
  const clientCaFile = s.optionalString('client_ca_file');
  if (certFile === '') s.error('cert_file', 'is required when tls is set');
  if (keyFile === '') s.error('key_file', 'is required when tls is set');
  s.done();
  const tls: TlsConfig = { certFile, keyFile };
  if (clientCaFile) tls.clientCaFile = clientCaFile;
  return tls;
}

function readAuth(s: Section): AuthConfig {
  const bearerToken = s.secret('bearer_token', '');
  if (/\s/.test(bearerToken)) s.error('bearer_token', 'must not contain whitespace');
  s.done();
  return { bearerToken };
}
