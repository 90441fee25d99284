// Credentials in config: a value from ${env:VAR} stays the text it was where a string (a token) is
// expected; an env value that would silently turn authentication off is an error naming the key and the
// variable; no config error and no log line shows a credential.

import { Writable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { findFactory } from '../cli/components.js';
import { createLogger } from '../telemetry/logger.js';
import { ConfigError } from './section.js';
import { parseServiceConfig, type ServiceConfig } from './service-config.js';

const RECEIVER = `
receivers:
  otlp:
    protocols: { http: { endpoint: 127.0.0.1:0 } }
    auth:
      bearer_token: \${env:TOKEN}
exporters:
  debug:
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [debug] }
`;

const EXPORTER = `
receivers:
  otlp:
    protocols: { http: { endpoint: 127.0.0.1:0 } }
exporters:
  otlphttp:
    endpoint: http://127.0.0.1:4318
    headers:
      authorization: "Bearer \${env:TOKEN}"
      x-api-key: \${env:KEY}
      x-tenant: \${env:TENANT}
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [otlphttp] }
`;

function parse(yaml: string, env: NodeJS.ProcessEnv): { config?: ServiceConfig; errors: readonly string[] } {
  try {
    return { config: parseServiceConfig(yaml, findFactory, env), errors: [] };
  } catch (err) {
    if (err instanceof ConfigError) return { errors: err.errors };
    throw err;
  }
}

const bearer = (c: ServiceConfig | undefined) => (c?.receivers.get('otlp')?.config as { auth: { bearerToken: string } } | undefined)?.auth.bearerToken;
const headers = (c: ServiceConfig | undefined) => (c?.exporters.get('otlphttp')?.config as { headers: Record<string, string> } | undefined)?.headers;

describe('env-substituted credentials', () => {
  const KEY = 'receivers.otlp.auth.bearer_token';
  test.each([
    ['null', `${KEY}: environment variable TOKEN holds a YAML null, not a credential; set it to the credential, or remove the key`],
    ['~', `${KEY}: environment variable TOKEN holds a YAML null, not a credential; set it to the credential, or remove the key`],
    ['NULL', `${KEY}: environment variable TOKEN holds a YAML null, not a credential; set it to the credential, or remove the key`],
    ['true', `${KEY}: environment variable TOKEN holds a YAML boolean, not a credential; set it to the credential, or remove the key`],
    ['', `${KEY}: environment variable TOKEN is set but empty, so this credential would be empty; set TOKEN, or remove the key`],
  ])('bearer token from TOKEN=%j: a precise error, never an open receiver', (value, error) => {
    expect(parse(RECEIVER, { TOKEN: value }).errors).toEqual([error]);
  });

  test.each([
    ['12345678', '12345678'], // a number in YAML, a token here
    ['#s3cret-token', '#s3cret-token'], // a YAML comment: it used to become null, i.e. auth off
    ['sk-live-abc', 'sk-live-abc'],
    ['0x1F', '0x1F'],
  ])('bearer token from TOKEN=%j stays the text', (value, expected) => {
    const { config, errors } = parse(RECEIVER, { TOKEN: value });
    expect(errors).toEqual([]);
    expect(bearer(config)).toBe(expected);
  });

  test('text YAML cannot read as one scalar stays text, and the error does not quote it', () => {
    const { errors } = parse(RECEIVER, { TOKEN: 'sk-abc: def: [x' });
    expect(errors).toEqual([`${KEY}: must not contain whitespace`]);
  });

  test('an explicit empty default is a choice: no auth, no error', () => {
    const { config, errors } = parse(RECEIVER.replace('${env:TOKEN}', '${env:TOKEN:-}'), {});
    expect(errors).toEqual([]);
    expect(bearer(config)).toBe('');
  });

  test('exporter headers: credential headers from empty or null variables are errors; values stay strings', () => {
    expect(parse(EXPORTER, { TOKEN: '', KEY: 'null', TENANT: '42' }).errors).toEqual([
      'exporters.otlphttp.headers.authorization: environment variable TOKEN is set but empty, so this credential would be empty; set TOKEN, or remove the key',
      'exporters.otlphttp.headers.x-api-key: environment variable KEY holds a YAML null, not a credential; set it to the credential, or remove the key',
    ]);
    const { config, errors } = parse(EXPORTER, { TOKEN: 'abc', KEY: '123', TENANT: '42' });
    expect(errors).toEqual([]);
    expect(headers(config)).toEqual({ authorization: 'Bearer abc', 'x-api-key': '123', 'x-tenant': '42' });
  });

  test('config errors about credential keys name the key and the type, never the value', () => {
    const { errors } = parse(
      `
receivers:
  otlp:
    protocols: { http: { endpoint: 127.0.0.1:0 } }
    auth: { bearer_token: [sk-secret-one] }
exporters:
  otlphttp:
    endpoint: http://127.0.0.1:4318
    headers: { authorization: 987654321, x-other: { nested: sk-secret-two } }
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [otlphttp] }
`,
      {},
    );
    expect(errors).toEqual([
      'receivers.otlp.auth.bearer_token: expected a string, got a list',
      'exporters.otlphttp.headers.authorization: expected a string, got a number',
      'exporters.otlphttp.headers.x-other: expected a string, got a map',
    ]);
    expect(errors.join('\n')).not.toMatch(/sk-secret|987654321/);
  });

  test('an exporter endpoint with a password in it is shown redacted in its error', () => {
    const { errors } = parse(EXPORTER.replace('http://127.0.0.1:4318', 'ftp://agent:pw-secret-4@backend:21'), { TOKEN: 'a', KEY: 'b', TENANT: 'c' });
    expect(errors).toEqual(['exporters.otlphttp.endpoint: must be an http:// or https:// URL, got "ftp://agent:[REDACTED]@backend:21"']);
  });

  test('a YAML syntax error says where, without quoting the line (it may hold a credential)', () => {
    const { errors } = parse('receivers:\n  otlp:\n    auth: { bearer_token: sk-secret-three: x }\n', {});
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^YAML: .* at line 3, column \d+$/);
    expect(errors[0]).not.toContain('sk-secret');
  });
});

describe('the collector log', () => {
  test('header, token and password fields are redacted wherever a component puts them', () => {
    let out = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    });
    const logger = createLogger('info', sink);
    logger.info({ headers: { authorization: 'Bearer sk-one' } }, 'a');
    logger.warn({ config: { headers: { 'x-api-key': 'sk-two' }, bearerToken: 'sk-three' }, password: 'sk-four' }, 'b');
    logger.error({ endpoint: 'http://127.0.0.1:4318', token: 'sk-five' }, 'c');
    expect(out).not.toMatch(/sk-(one|two|three|four|five)/);
    expect(out).toContain('"endpoint":"http://127.0.0.1:4318"');
    expect(out.match(/\[REDACTED\]/g)?.length).toBe(5);
  });
});
