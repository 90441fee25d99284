import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { ConfigErrors, Section } from '../../pipeline/config/section.js';
import { createDefaultConfig, readConfig } from './config.js';
import { otlpExporterFactory, otlpGrpcExporterFactory, otlpHttpExporterFactory } from './factory.js';

function read(raw: unknown, protocol: 'grpc' | 'http') {
  const errors = new ConfigErrors();
  const section = new Section(raw, 'exporters.otlp', errors);
  const config = readConfig(section, protocol);
  section.done();
  return { config, errors: errors.list };
}

describe('otlp exporter config', () => {
  it('has the collector defaults', () => {
    const d = createDefaultConfig('grpc');
    expect(d.endpoint).toBe('localhost:4317');
    expect(d.compression).toBe('gzip');
    expect(d.timeoutMs).toBe(5_000);
    expect(d.retryOnFailure).toEqual({ enabled: true, initialIntervalMs: 5_000, randomizationFactor: 0.5, multiplier: 1.5, maxIntervalMs: 30_000, maxElapsedTimeMs: 300_000 });
    expect(d.sendingQueue).toEqual({ enabled: true, numConsumers: 10, queueSize: 100_000, storage: '' });
    expect(createDefaultConfig('http').endpoint).toBe('http://localhost:4318');
    expect(read({}, 'grpc')).toEqual({ config: d, errors: [] });
  });

  it('reads every key from testdata/config.yaml', () => {
    const raw = YAML.parse(readFileSync(new URL('./testdata/config.yaml', import.meta.url), 'utf8'));
    const { config, errors } = read(raw, 'http');
    expect(errors).toEqual([]);
    expect(config).toEqual({
      protocol: 'http',
      endpoint: 'https://otel.example.com:4318',
      tracesEndpoint: 'https://traces.example.com/v1/traces',
      logsEndpoint: 'https://logs.example.com/v1/logs',
      encoding: 'json',
      tls: { insecure: false, insecureSkipVerify: true, caFile: '/etc/ssl/ca.pem', certFile: '/etc/ssl/client.pem', keyFile: '/etc/ssl/client.key' },
      headers: { authorization: 'Bearer token' },
      compression: 'none',
      timeoutMs: 10_000,
      shutdownTimeoutMs: 30_000,
      sendingQueue: { enabled: true, numConsumers: 4, queueSize: 5000, storage: '/var/lib/aibom/queue' },
      retryOnFailure: { enabled: true, initialIntervalMs: 1_000, randomizationFactor: 0.2, multiplier: 2, maxIntervalMs: 10_000, maxElapsedTimeMs: 120_000 },
    });
  });

  it('names the exact key of every problem', () => {
    const { errors } = read(
      {
        endpoint: 'no-port',
        encoding: 'json',
        compresion: 'gzip',
        tls: { insecure: 'yes', cert_file: '/a' },
        sending_queue: { queue_size: 0, storage: '/q', enabled: false },
        retry_on_failure: { max_interval: '1s', initial_interval: '2s', multiplier: 0.5 },
      },
      'grpc',
    );
    expect(errors).toEqual([
      'exporters.otlp.endpoint: must be host:port, got "no-port"',
      'exporters.otlp.tls.insecure: expected true or false, got string "yes"',
      'exporters.otlp.tls.cert_file: cert_file and key_file must be set together',
      'exporters.otlp.sending_queue.queue_size: must be between 1 and 9007199254740991, got 0',
      'exporters.otlp.sending_queue.storage: needs sending_queue.enabled: true',
      'exporters.otlp.retry_on_failure.multiplier: must be between 1 and Infinity, got 0.5',
      'exporters.otlp.retry_on_failure.max_interval: must not be smaller than initial_interval',
      'exporters.otlp: has invalid keys: encoding, compresion',
    ]);
  });

  it('accepts gRPC endpoints with a scheme and checks otlphttp URLs', () => {
    expect(read({ endpoint: 'http://collector:4317' }, 'grpc').errors).toEqual([]);
    expect(read({ endpoint: 'collector:4318' }, 'http').errors).toEqual(['exporters.otlp.endpoint: must be an http:// or https:// URL, got "collector:4318"']);
  });

  it('registers otlp, otlp_grpc and otlphttp', () => {
    expect([otlpExporterFactory.type, otlpGrpcExporterFactory.type, otlpHttpExporterFactory.type]).toEqual(['otlp', 'otlp_grpc', 'otlphttp']);
    expect(otlpHttpExporterFactory.createDefaultConfig().protocol).toBe('http');
  });
});
