import { describe, expect, test } from 'vitest';
import type { ExporterFactory, Factory, ReceiverFactory } from '../component.js';
import { ConfigError, type Section } from './section.js';
import { parseServiceConfig } from './service-config.js';

interface RecvConfig {
  endpoint: string;
  timeoutMs: number;
}

const recv: ReceiverFactory<RecvConfig> = {
  kind: 'receiver',
  type: 'otlp',
  signals: ['traces', 'logs'],
  createDefaultConfig: () => ({ endpoint: 'localhost:4317', timeoutMs: 5000 }),
  readConfig(s: Section) {
    const d = this.createDefaultConfig();
    return { endpoint: s.string('endpoint', d.endpoint), timeoutMs: s.duration('timeout', d.timeoutMs) };
  },
  create: () => ({ start: async () => undefined, shutdown: async () => undefined }),
};

const exp: ExporterFactory<{ path: string }> = {
  kind: 'exporter',
  type: 'file',
  signals: ['traces'],
  createDefaultConfig: () => ({ path: 'out.jsonl' }),
  readConfig: (s) => ({ path: s.string('path', 'out.jsonl') }),
  create: () => ({ start: async () => undefined, shutdown: async () => undefined }),
};

const lookup = (kind: string, type: string): Factory | undefined =>
  ([recv, exp] as Factory[]).find((f) => f.kind === kind && f.type === type);

function errorsOf(yaml: string, env: NodeJS.ProcessEnv = {}): readonly string[] {
  try {
    parseServiceConfig(yaml, lookup, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.errors;
    throw err;
  }
  return [];
}

describe('service config', () => {
  test('fills defaults, names instances, substitutes env with types', () => {
    const cfg = parseServiceConfig(
      `
receivers:
  otlp/upstream:
    endpoint: \${env:EP}
    timeout: \${TIMEOUT:-2s}
exporters:
  file: { path: "\${env:OUT} $$HOME" }
service:
  telemetry: { logs: { level: debug } }
  pipelines:
    traces: { receivers: [otlp/upstream], exporters: [file] }
`,
      lookup,
      { EP: '127.0.0.1:9999', OUT: '/tmp/x' },
    );
    const r = cfg.receivers.get('otlp/upstream')!;
    expect(r.name).toBe('upstream');
    expect(r.config).toEqual({ endpoint: '127.0.0.1:9999', timeoutMs: 2000 });
    expect(cfg.exporters.get('file')!.config).toEqual({ path: '/tmp/x $HOME' });
    expect(cfg.adminEndpoint).toBe('127.0.0.1:8888');
    expect(cfg.logLevel).toBe('debug');
  });

  test('lists every error with its exact path', () => {
    const errors = errorsOf(`
receivers:
  otlp:
    endpoint: 12
    timout: 5s
  nosuch: {}
exporters:
  file: { path: out }
service:
  admin: { endpoint: "no-port" }
  pipelines:
    traces: { receivers: [otlp, missing], exporters: [file] }
    logs: { receivers: [otlp], exporters: [file] }
    metrics: { receivers: [otlp], exporters: [file] }
extra: 1
`);
    expect(errors).toEqual(
      expect.arrayContaining([
        'receivers.otlp.endpoint: expected a string, got number 12',
        'receivers.otlp: has invalid keys: timout',
        'receivers.nosuch: unknown receiver type "nosuch"',
        'service.admin.endpoint: must be host:port, got "no-port"',
        'service.pipelines.traces.receivers: references receiver "missing" which is not configured',
        'service.pipelines.logs.exporters: exporter "file" does not support logs',
        'service.pipelines.metrics: pipeline id must be "traces", "logs", "traces/<name>" or "logs/<name>"',
        ': has invalid keys: extra',
      ].map((e) => (e.startsWith(':') ? expect.stringContaining('has invalid keys: extra') : e))),
    );
  });

  test('an unset variable without default is an error naming it', () => {
    expect(errorsOf(`receivers: { otlp: { endpoint: "\${env:NOPE}" } }\nexporters: { file: {} }\nservice: { pipelines: { traces: { receivers: [otlp], exporters: [file] } } }`)).toEqual([
      'receivers.otlp.endpoint: environment variable NOPE is not set (write ${env:NOPE:-} for an empty default)',
    ]);
  });

  test('YAML syntax errors and empty pipelines are reported', () => {
    expect(errorsOf('receivers: [unclosed')[0]).toMatch(/^YAML: /);
    expect(errorsOf('service: {}')).toContain('service.pipelines: at least one pipeline is required');
  });
});
