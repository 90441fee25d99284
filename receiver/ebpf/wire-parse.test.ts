import { describe, expect, test } from 'vitest';
import { parseWire } from './wire-parse.js';

const TP = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

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
    expect(parseWire(Buffer.from(rpc))).toEqual({ traceparent: TP, traceparentSource: 'mcp_meta' });
    const body = parseWire(Buffer.from(`POST /mcp HTTP/1.1\r\nHost: localhost:9000\r\n\r\n${rpc}`));
    expect(body).toMatchObject({ method: 'POST', path: '/mcp', traceparent: TP, traceparentSource: 'mcp_meta' });
    const other = '00-11111111111111111111111111111111-2222222222222222-01';
    const both = parseWire(Buffer.from(`POST /mcp HTTP/1.1\r\ntraceparent: ${other}\r\n\r\n${rpc}`));
    expect(both).toMatchObject({ traceparent: other, traceparentSource: 'header' });
  });

  test('binary or unrelated bytes', () => {
    expect(parseWire(Buffer.from([0x16, 0x03, 0x01, 0, 5, 1, 2, 3]))).toBeUndefined();
    expect(parseWire(Buffer.from('{"jsonrpc":"2.0","method":"ping"}'))).toBeUndefined();
  });
});
