import { describe, expect, test } from 'vitest';
import { looksLikeToken, REDACTED, redactArgs, redactSecrets } from './redact.js';

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

describe('redactArgs', () => {
  const R = REDACTED;
  const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
  const random = 'Xk9fQ2mZ7vLp3RtY8wNc4HbJ6sDg1Ae5';
  // [argv, expected]: flag names stay, values go.
  const redacted: [string[], string[]][] = [
    [['agent', '--api-key=sk-live-abcdef123456'], ['agent', `--api-key=${R}`]],
    [['agent', '--api-key', 'sk-live-abcdef123456'], ['agent', '--api-key', R]],
    [['agent', '--api_key', 'plainvalue'], ['agent', '--api_key', R]],
    [['agent', '--token', 'X'], ['agent', '--token', R]],
    [['agent', '--password', 'hunter2', '-v'], ['agent', '--password', R, '-v']],
    [['agent', '--db-password=hunter2'], ['agent', `--db-password=${R}`]],
    [['agent', '--client-secret', 'abc'], ['agent', '--client-secret', R]],
    [['tool', '-token=abc'], ['tool', `-token=${R}`]],
    [['curl', '-H', 'Authorization: Bearer abc.def'], ['curl', '-H', `Authorization: ${R}`]],
    [['curl', '--header', 'x-api-key: 1234'], ['curl', '--header', `x-api-key: ${R}`]],
    [['curl', '-u', 'alice:s3cret', 'https://x'], ['curl', '-u', `alice:${R}`, 'https://x']],
    [['curl', '--user=alice:s3cret'], ['curl', `--user=alice:${R}`]],
    [['sshpass', '-p', 'hunter2', 'ssh', 'host'], ['sshpass', '-p', R, 'ssh', 'host']],
    [['/usr/bin/mysql', '-u', 'root', '-phunter2', 'db'], ['/usr/bin/mysql', '-u', 'root', `-p${R}`, 'db']],
    [['redis-cli', '-a', 'hunter2', 'ping'], ['redis-cli', '-a', R, 'ping']],
    [['docker', 'login', '-u', 'bob', '-p', 'hunter2'], ['docker', 'login', '-u', 'bob', '-p', R]],
    [['openssl', 'pkcs12', '-passin', 'pass:hunter2', '-passout', 'pass:x'], ['openssl', 'pkcs12', '-passin', R, '-passout', R]],
    [['git', '-c', 'http.extraHeader=Authorization: Bearer abc.def', 'clone', 'u'], ['git', '-c', `http.extraHeader=Authorization: Bearer ${R}`, 'clone', 'u']],
    [['git', 'clone', 'https://bob:ghp_secret@github.com/o/r'], ['git', 'clone', `https://bob:${R}@github.com/o/r`]],
    [['psql', 'postgres://app:pa55@db:5432/x'], ['psql', `postgres://app:${R}@db:5432/x`]],
    [['curl', 'https://api.x/v1?api_key=abc123&q=1'], ['curl', `https://api.x/v1?api_key=${R}&q=1`]],
    [['curl', 'https://s3/x?X-Amz-Credential=a&sig=abcdef'], ['curl', `https://s3/x?X-Amz-Credential=a&sig=${R}`]],
    [['curl', 'https://x/?token=abc'], ['curl', `https://x/?token=${R}`]],
    [['env', 'OPENAI_API_KEY=sk-abcdef123456', 'node', 'a.js'], ['env', `OPENAI_API_KEY=${R}`, 'node', 'a.js']],
    [['env', 'DB_PASSWORD=hunter2'], ['env', `DB_PASSWORD=${R}`]],
    [['agent', 'sk-proj-abcdef123456'], ['agent', R]],
    [['gh', 'ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'], ['gh', R]],
    [['aws', 'AKIAIOSFODNN7EXAMPLE'], ['aws', R]],
    [['slack', 'xoxb-123456789012-abcdefghij'], ['slack', R]],
    [['tool', jwt], ['tool', R]],
    [['tool', random], ['tool', R]],
    [['tool', `--session=${random}`], ['tool', `--session=${R}`]],
    [['tool', '--header=Authorization: Basic dXNlcjpwYXNz'], ['tool', `--header=Authorization: ${R}`]],
  ];
  test.each(redacted)('%j', (argv, expected) => {
    expect(redactArgs(argv)).toEqual(expected);
  });

  // Ordinary command lines stay exactly as they are (and the same array comes back).
  const kept: string[][] = [
    ['python3', '/home/u/.venv/bin/agent.py', '--model', 'gpt-4o', '-n', '3'],
    ['ssh', '-p', '2222', 'host'], // -p is a port here
    ['docker', 'run', '-p', '8080:80', 'nginx'], // docker run -p publishes a port: only login takes a password
    ['mysql', '-p', 'mydb'], // a separate -p prompts; mydb is the database
    ['node', 'server.js', '--port=8080', '--max-tokens', '512'],
    ['git', 'checkout', '0123456789abcdef0123456789abcdef01234567'], // a sha is not a secret
    ['docker', 'run', '3f2504e0-4f89-11d3-9a0c-0305e82c3301'],
    ['ls', 'src/components/ButtonGroup2/ButtonGroupItem3.tsx'],
    ['curl', 'https://user@example.com/path?q=cats&page=2'],
    ['tool', '--no-password', 'file.txt'],
    ['tool', '--token-file', '/run/secrets/token'],
    ['sh', '-c', 'cat /data/faq.md'],
    ['echo', 'PWD=/home/u'],
  ];
  test.each(kept)('kept: %j', (...argv) => {
    expect(redactArgs(argv)).toBe(argv);
  });

  test('the value after a secret flag is redacted even at the end, never a following long option', () => {
    expect(redactArgs(['a', '--token'])).toEqual(['a', '--token']);
    expect(redactArgs(['a', '--token', '--verbose'])).toEqual(['a', '--token', '--verbose']);
  });

  test('looksLikeToken: random strings yes; hex digests, words, paths no', () => {
    expect(looksLikeToken(random)).toBe(true);
    expect(looksLikeToken('0123456789abcdef0123456789abcdef01234567')).toBe(false);
    expect(looksLikeToken('ThisIsAVeryLongCamelCaseIdentifierName2')).toBe(false);
    expect(looksLikeToken('short1Aa')).toBe(false);
  });
});
