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
}

export interface GrpcConfig {
  endpoint: string;
  /** Largest accepted message, after decompression, in MiB. */
  maxRecvMsgSizeMib: number;
  tls?: TlsConfig;
}

export interface HttpConfig {
  endpoint: string;
  /** Largest accepted body in bytes, both as sent and after decompression. */
  maxRequestBodySize: number;
  tracesUrlPath: string;
  logsUrlPath: string;
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
/** grpc-go's (and so the collector's) default receive limit. */
export const DEFAULT_MAX_RECV_MSG_SIZE_MIB = 4;
/** confighttp's default. */
export const DEFAULT_MAX_REQUEST_BODY_SIZE = 20 * 1024 * 1024;
export const DEFAULT_TRACES_URL_PATH = '/v1/traces';
export const DEFAULT_LOGS_URL_PATH = '/v1/logs';
/** Far above any sane export, low enough that `<< 20` stays exact. */
const MAX_RECV_MSG_SIZE_MIB_LIMIT = 2047;

export function defaultGrpcConfig(): GrpcConfig {
  return { endpoint: DEFAULT_GRPC_ENDPOINT, maxRecvMsgSizeMib: DEFAULT_MAX_RECV_MSG_SIZE_MIB };
}

export function defaultHttpConfig(): HttpConfig {
  return {
    endpoint: DEFAULT_HTTP_ENDPOINT,
    maxRequestBodySize: DEFAULT_MAX_REQUEST_BODY_SIZE,
    tracesUrlPath: DEFAULT_TRACES_URL_PATH,
    logsUrlPath: DEFAULT_LOGS_URL_PATH,
  };
}

/**
 * Both protocols on their default endpoints, no TLS, no auth. `readConfig` starts from these
 * values, but only enables the protocols the user lists under `protocols` (as the collector does).
 */
export function createDefaultConfig(): OtlpReceiverConfig {
  return { protocols: { grpc: defaultGrpcConfig(), http: defaultHttpConfig() }, auth: { bearerToken: '' } };
}

/**
 * Reads `receivers.otlp[/name]`. Records every problem on `section.errors`; the caller calls
 * `section.done()` on the receiver's own section, so this only closes the sections below it.
 */
export function readConfig(section: Section): OtlpReceiverConfig {
  const protocols = section.section('protocols');
  // `grpc:` with nothing after it is YAML null: the protocol is enabled with its defaults.
  const listed = new Set(protocols.keys());
  const config: OtlpReceiverConfig = { protocols: {}, auth: readAuth(section.section('auth')) };
  if (listed.has('grpc')) config.protocols.grpc = readGrpc(protocols.section('grpc'));
  if (listed.has('http')) config.protocols.http = readHttp(protocols.section('http'));
  if (!config.protocols.grpc && !config.protocols.http) {
    section.errors.add(protocols.path, 'must enable at least one protocol (grpc, http)');
  }
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
  };
  if (config.tracesUrlPath === config.logsUrlPath) {
    s.error('logs_url_path', `must differ from traces_url_path (both are ${JSON.stringify(config.tracesUrlPath)})`);
  }
  const tls = readTls(s);
  if (tls) config.tls = tls;
  s.done();
  return config;
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
