import { describe, expect, test } from 'vitest';
import { REDACTED, redactSecrets } from './redact.js';

describe('redactSecrets', () => {
  test('credential header values are replaced, header names and other headers kept', () => {
    const head = [
      'POST /v1/chat/completions HTTP/1.1',
      'Host: api.openai.com',
      'Authorization: Bearer sk-test-123',
      'proxy-authorization: Basic dXNlcjpwYXNz',
      'Cookie: session=abc; other=def',
      'X-Api-Key: 12345',
      'api-key: azure-key-value',
      'traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      '',
      '{"model":"gpt-4o"}',
    ].join('\r\n');
    const out = redactSecrets(head);
    expect(out).toContain(`Authorization: ${REDACTED}\r\n`);
    expect(out).toContain(`proxy-authorization: ${REDACTED}\r\n`);
    expect(out).toContain(`Cookie: ${REDACTED}\r\n`);
    expect(out).toContain(`X-Api-Key: ${REDACTED}\r\n`);
    expect(out).toContain(`api-key: ${REDACTED}\r\n`);
    expect(out).toContain('Host: api.openai.com\r\n');
    expect(out).toContain('traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    expect(out).toContain('{"model":"gpt-4o"}');
    for (const secret of ['sk-test-123', 'dXNlcjpwYXNz', 'session=abc', '12345', 'azure-key-value']) {
      expect(out).not.toContain(secret);
    }
  });

  test('a header cut off by the capture bound (no line end) is still redacted', () => {
    expect(redactSecrets('GET / HTTP/1.1\r\nAuthorization: Bearer abcdefgh')).toBe(`GET / HTTP/1.1\r\nAuthorization: ${REDACTED}`);
  });

  test('token-looking strings anywhere', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
    const text = [
      `{"messages":[{"content":"use key sk-proj-abcdef123456 please"}],"token":"t0k3n","nested":"Bearer xyz.abc"}`,
      `jwt=${jwt}`,
      'aws AKIAIOSFODNN7EXAMPLE aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      'ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa AIzaSyA1234567890abcdefghijklmnopqrstu',
      'GET /search?q=cats&api_key=supersecret&page=2 HTTP/1.1',
    ].join('\n');
    const out = redactSecrets(text);
    for (const secret of ['sk-proj-abcdef123456', 't0k3n', 'xyz.abc', jwt, 'AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI', 'ghp_aaaa', 'AIzaSy', 'supersecret']) {
      expect(out, secret).not.toContain(secret);
    }
    expect(out).toContain('"token":"[REDACTED]"');
    expect(out).toContain('Bearer [REDACTED]');
    expect(out).toContain('q=cats&api_key=[REDACTED]&page=2');
    expect(out).toContain('use key [REDACTED] please');
  });

  test('ordinary text is unchanged', () => {
    const text = 'GET /docs/sk-learn HTTP/1.1\r\nHost: example.com\r\nUser-Agent: python-requests/2.32\r\n\r\n';
    expect(redactSecrets(text)).toBe(text);
  });
});
