import { describe, expect, test } from 'vitest';
import { parseWire, requestModel, type WireInfo } from './wire-parse.js';
import { parseWireByRegex, requestModelByRegex } from './testdata/wire-parse-regex.js';

const TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const TP_IDS = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' };

describe('parseWire', () => {
  test('HTTP/1.1 request head: method, path without query, host and port, length, agent, traceparent', () => {
    const w = parseWire(
      Buffer.from(
        `POST /v1/chat/completions?api_key=x HTTP/1.1\r\nHost: api.example.com:8443\r\nContent-Length: 42\r\nUser-Agent: OpenAI/Python 1.0\r\ntraceparent: ${TP}\r\n\r\n{"model":"m"}`,
      ),
    );
    expect(w).toEqual({
      method: 'POST',
      path: '/v1/chat/completions',
      host: 'api.example.com',
      port: 8443,
      contentLength: 42,
      userAgent: 'OpenAI/Python 1.0',
      traceparent: TP,
      traceparentSource: 'header',
      ...TP_IDS,
    });
  });

  test('response status line; IPv6 host; absolute-form target; invalid traceparent ignored', () => {
    expect(parseWire(Buffer.from('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n'))).toEqual({ statusCode: 404, contentLength: 0 });
    expect(parseWire(Buffer.from('GET http://proxy.test/a/b?c HTTP/1.0\r\nHost: [::1]:80\r\ntraceparent: 00-zz\r\n\r\n'))).toEqual({
      method: 'GET',
      path: '/a/b',
      host: '::1',
      port: 80,
    });
  });

  test('a header cut by the capture bound is not used', () => {
    expect(parseWire(Buffer.from(`GET / HTTP/1.1\r\ntraceparent: ${TP.slice(0, 30)}`))?.traceparent).toBeUndefined();
  });

  test('MCP JSON-RPC params._meta.traceparent, bare or as an HTTP body; the header wins when both exist', () => {
    const rpc = `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"search","arguments":{},"_meta":{"progressToken":1,"traceparent":"${TP}"}}}`;
    expect(parseWire(Buffer.from(rpc))).toEqual({ traceparent: TP, traceparentSource: 'mcp_meta', ...TP_IDS });
    const body = parseWire(Buffer.from(`POST /mcp HTTP/1.1\r\nHost: localhost:9000\r\n\r\n${rpc}`));
    expect(body).toMatchObject({ method: 'POST', path: '/mcp', traceparent: TP, traceparentSource: 'mcp_meta' });
    const other = '00-11111111111111111111111111111111-2222222222222222-01';
    const both = parseWire(Buffer.from(`POST /mcp HTTP/1.1\r\ntraceparent: ${other}\r\n\r\n${rpc}`));
    expect(both).toMatchObject({ traceparent: other, traceparentSource: 'header', spanId: '2222222222222222' });
  });

  test('binary or unrelated bytes', () => {
    expect(parseWire(Buffer.from([0x16, 0x03, 0x01, 0, 5, 1, 2, 3]))).toBeUndefined();
    expect(parseWire(Buffer.from('{"jsonrpc":"2.0","method":"ping"}'))).toBeUndefined();
  });

  test('a request body names its model', () => {
    expect(requestModel(Buffer.from('{"model" :\t"gpt-4o-mini","stream":true}'))).toBe('gpt-4o-mini');
    expect(requestModel(Buffer.from('{"model":"a\\"b"}'))).toBeUndefined();
    expect(requestModel(Buffer.from(`{"model":"${'m'.repeat(129)}"}`))).toBeUndefined();
    expect(requestModel(Buffer.from('{"messages":[]}'))).toBeUndefined();
  });

  test('reads what the regular-expression definition reads, on 20 000 random heads, bodies and cuts', () => {
    let seed = 11;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)]!;
    const tp = (version: string, trace: string, span: string, tail = '') => `${version}-${trace}-${span}-01${tail}`;
    const hex32 = '4bf92f3577b34da6a3ce929d0e0e4736';
    const hex16 = '00f067aa0ba902b7';
    const methods = ['GET', 'POST', 'get', 'PATCH', 'AB', 'ABCDEFGHIJ', 'ABCDEFGHIJK', 'M\u00c9T'];
    const targets = ['/v1/chat/completions', '/a?b=1', '/x#f', '?q', 'http://h:80/p?q', 'HTTPS://host', 'h+t.t-p://a/b', '1http://x/', '://x', '*', '/p\u00a0q', '/p\tq', '', '/sp ace', 'a://', 'a:/b'];
    const versions = ['HTTP/1.1', 'HTTP/1.0', 'HTTP/2', 'HTTP/1.1 ', 'http/1.1', 'HTTP/1.2', 'HTTP/1.1\r'];
    const statuses = ['HTTP/1.1 200 OK', 'HTTP/1.0 404', 'HTTP/1.1 20', 'HTTP/1.1 2000', 'HTTP/1.1  200', 'HTTP/1.1 200\r', 'HTTP/1.1 2x0 OK', 'HTTP/1.0 503 \u00ff'];
    const eols = ['\r\n', '\n', '\r\r\n'];
    const names = ['host', 'Host', 'HOST', ' host ', 'content-length', 'Content-Length', 'user-agent', 'User-Agent', 'traceparent', 'TraceParent', 'x-other', 'h\u00f3st', '', 'host\u00a0'];
    const values = [
      'a.b', 'a.b:8080', '[::1]', '[::1]:443', '[]', '[]:1', ':80', 'a:', 'a:b', 'a:99999', 'a:0', '[x]y', '[x]:', ' \u00a0a.b\t', 'h:08', '[a]b]:1', '[a:1',
      '42', ' 42 ', '-1', '4a', '', '99999999999999999999', '9007199254740993', '007',
      'OpenAI/Python 1.51.0', 'caf\u00e9/1', 'a\rb',
      tp('00', hex32, hex16), ` ${tp('00', hex32, hex16)}\t`, tp('00', hex32.toUpperCase(), hex16), tp('ff', hex32, hex16), tp('00', hex32, hex16, '-x'),
      tp('01', hex32, hex16, '-x'), tp('01', hex32, hex16, '-x\ry'), tp('01', hex32, hex16, 'x'), tp('00', '0'.repeat(32), hex16), tp('00', hex32, '0'.repeat(16)), tp('00', hex32, hex16).slice(0, 50),
    ];
    const bodies = [
      '', '{"model":"gpt-4o","messages":[]}', '{"model" \u00a0: "llama3:8b"}', '{"model":""}', '{"model":"a\\\\b"}', `{"model":"${'x'.repeat(128)}"}`, `{"model":"${'x'.repeat(129)}"}`,
      `{"pad":"${'p'.repeat(150)}","model":"late"}`, `{"model":${' '.repeat(150)}"far"}`, '{"model":"ab', '{"model":\n"nl"}',
      `{"jsonrpc":"2.0","params":{"_meta":{"traceparent":"${tp('00', hex32, hex16)}"}}}`, `{"jsonrpc":"2.0","params":{"_meta":{"x":{},"traceparent":"${tp('00', hex32, hex16)}"}}}`,
      `{"jsonrpc":"2.0","params":{"_meta" : {"traceparent" : "${tp('01', hex32, hex16, '-more')}"}}}`, '{"jsonrpc":"2.0","method":"ping"}',
    ];
    const norm = (w: WireInfo | undefined) => (w === undefined ? undefined : Object.fromEntries(Object.entries(w).filter(([, v]) => v !== undefined)));
    for (let i = 0; i < 20_000; i++) {
      const eol = pick(eols);
      const kind = rnd(5);
      let s = kind === 0 ? pick(statuses) : kind === 1 ? pick(bodies) : `${pick(methods)}${rnd(4) === 0 ? pick(['  ', '\t', '']) : ' '}${pick(targets)} ${pick(versions)}`;
      const headers = rnd(6);
      for (let h = 0; h < headers; h++) s += eol + (rnd(10) === 0 ? pick(values) : `${pick(names)}${rnd(6) === 0 ? ' ' : ''}:${pick(values)}`);
      if (rnd(4) > 0) s += eol + eol + pick(bodies);
      let data = Buffer.from(s, 'latin1');
      if (rnd(4) === 0) data = data.subarray(0, rnd(data.length + 1));
      const what = data.toString('latin1');
      expect(norm(parseWire(data)), what).toEqual(norm(parseWireByRegex(data)));
      expect(requestModel(data), what).toBe(requestModelByRegex(data));
    }
  });
});
