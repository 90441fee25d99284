import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ExporterFactory, Factory } from '../../pipeline/component.js';
import { ConfigError, ConfigErrors, Section } from '../../pipeline/config/section.js';
import { parseServiceConfig } from '../../pipeline/config/service-config.js';
import {
  createDefaultConfig,
  DEFAULT_GRPC_ENDPOINT,
  DEFAULT_HTTP_ENDPOINT,
  DEFAULT_MAX_RECV_MSG_SIZE_MIB,
  DEFAULT_MAX_REQUEST_BODY_SIZE,
  readConfig,
  type OtlpReceiverConfig,
} from './config.js';
import { otlpReceiverFactory } from './factory.js';

const stubExporter: ExporterFactory<object> = {
  type: 'stub',
  kind: 'exporter',
  signals: ['traces', 'logs'],
  createDefaultConfig: () => ({}),
  readConfig: () => ({}),
  create: () => ({ start: async () => {}, shutdown: async () => {}, traces: { consume: async () => {} } }),
};

function lookup(kind: string, type: string): Factory | undefined {
  if (kind === 'receiver' && type === 'otlp') return otlpReceiverFactory as Factory;
  if (kind === 'exporter' && type === 'stub') return stubExporter as Factory;
  return undefined;
}

function load(file: string, env: NodeJS.ProcessEnv = {}) {
  return parseServiceConfig(readFileSync(new URL(`./testdata/${file}`, import.meta.url), 'utf8'), lookup, env);
}

/** Reads one receiver section the way the service does (readConfig, then done on the section). */
function read(raw: unknown): { config: OtlpReceiverConfig; errors: string[] } {
  const errors = new ConfigErrors();
  const section = new Section(raw, 'receivers.otlp', errors);
  const config = readConfig(section);
  section.done();
  return { config, errors: errors.list };
}

const DEFAULT_GRPC = { endpoint: 'localhost:4317', maxRecvMsgSizeMib: 64, maxConnections: 1000, keepalive: { maxConnectionIdleMs: 300_000, maxConnectionAgeMs: 0, maxConnectionAgeGraceMs: 0 } };

describe('OTLP receiver config', () => {
  it('has complete defaults in one place', () => {
    expect(createDefaultConfig()).toEqual({
      protocols: {
        grpc: DEFAULT_GRPC,
        http: {
          endpoint: 'localhost:4318',
          maxRequestBodySize: 64 * 1024 * 1024,
          tracesUrlPath: '/v1/traces',
          logsUrlPath: '/v1/logs',
          maxConnections: 1000,
          readHeaderTimeoutMs: 10_000,
          readTimeoutMs: 60_000,
          idleTimeoutMs: 60_000,
        },
      },
      auth: { bearerToken: '' },
      maxInFlightBytes: 256 * 1024 * 1024,
    });
    expect([DEFAULT_GRPC_ENDPOINT, DEFAULT_HTTP_ENDPOINT, DEFAULT_MAX_RECV_MSG_SIZE_MIB, DEFAULT_MAX_REQUEST_BODY_SIZE]).toEqual([
      'localhost:4317',
      'localhost:4318',
      64,
      67108864,
    ]);
  });

  it('enables only the listed protocols, with defaults for a bare key', () => {
    expect(read({ protocols: { grpc: null } })).toEqual({
      config: { protocols: { grpc: DEFAULT_GRPC }, auth: { bearerToken: '' }, maxInFlightBytes: 256 * 1024 * 1024 },
      errors: [],
    });
    const httpOnly = read({ protocols: { http: {} } });
    expect(httpOnly.errors).toEqual([]);
    expect(httpOnly.config.protocols.grpc).toBeUndefined();
    expect(httpOnly.config.protocols.http?.endpoint).toBe('localhost:4318');
  });

  it('reads every key of a collector-style config', () => {
    const config = load('config.yaml', { OTLP_TOKEN: 'tok-123' });
    expect(config.receivers.get('otlp/all')!.config).toEqual({
      protocols: {
        grpc: {
          endpoint: '0.0.0.0:14317',
          maxRecvMsgSizeMib: 16,
          maxConnections: 200,
          keepalive: { maxConnectionIdleMs: 120_000, maxConnectionAgeMs: 3_600_000, maxConnectionAgeGraceMs: 30_000 },
          tls: { certFile: '/etc/otel/server.crt', keyFile: '/etc/otel/server.key', clientCaFile: '/etc/otel/ca.crt' },
        },
        http: {
          endpoint: '[::1]:14318',
          maxRequestBodySize: 8 * 1024 * 1024,
          tracesUrlPath: '/otlp/traces',
          logsUrlPath: '/otlp/logs',
          maxConnections: 50,
          readHeaderTimeoutMs: 5000,
          readTimeoutMs: 30_000,
          idleTimeoutMs: 90_000,
          tls: { certFile: '/etc/otel/server.crt', keyFile: '/etc/otel/server.key' },
        },
      },
      auth: { bearerToken: 'tok-123' },
      maxInFlightBytes: 256 * 1024 * 1024,
    });
    expect(config.receivers.get('otlp/grpc_only')!.config).toEqual({
      protocols: { grpc: DEFAULT_GRPC },
      auth: { bearerToken: '' },
      maxInFlightBytes: 256 * 1024 * 1024,
    });
  });

  it('reports every mistake with its exact path', () => {
    let error: unknown;
    try {
      load('invalid.yaml');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect([...(error as ConfigError).errors].sort()).toEqual(
      [
        'receivers.otlp/typo.protocols: has invalid keys: htttp',
        'receivers.otlp/bad_values.protocols.grpc.endpoint: must be host:port, got "localhost"',
        'receivers.otlp/bad_values.protocols.grpc.max_recv_msg_size_mib: must be between 1 and 2047, got 0',
        'receivers.otlp/bad_values.protocols.grpc.tls.cert_file: is required when tls is set',
        'receivers.otlp/bad_values.protocols.grpc.max_connections: must be between 1 and 1000000, got 0',
        'receivers.otlp/bad_values.protocols.grpc.keepalive.server_parameters.max_connection_idle: expected a duration like "5s" or "200ms", got number 5',
        'receivers.otlp/bad_values.protocols.grpc.keepalive.server_parameters.max_connection_age: expected a duration like "5s" or "200ms", got string "-1s"',
        'receivers.otlp/bad_values.protocols.grpc.keepalive.server_parameters: has invalid keys: time',
        'receivers.otlp/bad_values.protocols.grpc.keepalive: has invalid keys: enforcement_policy',
        'receivers.otlp/bad_values.protocols.http.read_header_timeout: must not exceed read_timeout (60000 ms), the whole request\'s limit',
        'receivers.otlp/bad_values.protocols.http.idle_timeout: must be 0 (never) or between 1ms and 596h, got 2592000000 ms',
        'receivers.otlp/bad_values.protocols.http.max_request_body_size: expected a size like 4194304 or "4MiB", got string "lots"',
        'receivers.otlp/bad_values.protocols.http.logs_url_path: must differ from traces_url_path (both are "/v1/same")',
        'receivers.otlp/bad_values.auth.bearer_token: must not contain whitespace',
        'receivers.otlp/bad_values.auth: has invalid keys: scheme',
        'receivers.otlp/no_protocols.protocols: must enable at least one protocol (grpc, http)',
        'receivers.otlp.protocols: must enable at least one protocol (grpc, http)',
      ].sort(),
    );
  });

  it('rejects unknown keys at the top of the receiver section', () => {
    expect(read({ protocols: { grpc: null }, include_metadata: true }).errors).toEqual(['receivers.otlp: has invalid keys: include_metadata']);
  });

  it('rejects bad url paths and a zero body limit', () => {
    expect(read({ protocols: { http: { traces_url_path: '/a b', max_request_body_size: 0 } } }).errors).toEqual([
      'receivers.otlp.protocols.http.max_request_body_size: must be greater than 0',
      'receivers.otlp.protocols.http.traces_url_path: must be a URL path like "/v1/traces", got "/a b"',
    ]);
  });
});
