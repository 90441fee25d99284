import Long from 'long';
import { describe, expect, test } from 'vitest';
import { attr, attrs } from '../../pipeline/otlp/attributes.js';
import { tracesCodec } from '../../pipeline/otlp/codec.js';
import type { KeyValue, Span } from '../../pipeline/otlp/types.js';
import { CORRELATE_SCOPE } from '../../pipeline/semconv.js';
import { readKernelSpan } from './kernel-span.js';

const span = (attributes: KeyValue[]): Span => ({
  traceId: Buffer.alloc(16, 1),
  spanId: Buffer.alloc(8, 2),
  parentSpanId: Buffer.alloc(8, 3),
  name: 'k',
  kind: 1,
  startTimeUnixNano: 1,
  endTimeUnixNano: 2,
  attributes,
});

/** The same span as correlate makes it (an object) and as another collector tier sends it (received bytes). */
function bothWays(attributes: KeyValue[]): [Span, Span] {
  const data = { resourceSpans: [{ scopeSpans: [{ scope: { name: CORRELATE_SCOPE }, spans: [span(attributes)] }] }] };
  const received = tracesCodec.decodeReceived(Buffer.from(tracesCodec.encode(data))).resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
  return [span(attributes), received];
}

describe('readKernelSpan', () => {
  test('an object span and the same span received as bytes give the same facts', () => {
    const cases: KeyValue[][] = [
      [...attrs({ 'aibom.fold.rule': 'python_packages', 'file.directory': '/usr/lib/python3/site-packages', 'aibom.file.distinct_paths': 51 }), attr('aibom.fold.sample_paths', ['/a', '/b']), ...attrs({ 'aibom.kernel.kind': 'open', 'aibom.kernel.count': 51 })],
      [...attrs({ 'process.pid': 7, 'process.executable.path': '/usr/bin/node', 'aibom.kernel.kind': 'process', 'aibom.process.exec_under_parent': true, 'aibom.monitor.coverage': 'partial', 'aibom.monitor.partial_reason': 'running_at_start' }), attr('process.command_args', ['node', 'server.js'])],
      attrs({ 'aibom.kernel.kind': 'http', 'network.peer.address': '10.0.0.8', 'network.peer.port': 8081, 'http.request.method': 'POST', 'url.path': '/t', 'server.address': 'tickets', 'server.port': 80, 'http.request.body.size': 420 }),
      attrs({ 'aibom.kernel.kind': 'open', 'file.path': '/srv/.aws/credentials', 'aibom.identity.credential': true, 'aibom.file.result': -13, 'aibom.file.open_flags': 0o200000 }),
      attrs({ 'aibom.kernel.kind': 'dns', 'dns.question.name': 'api.openai.com.', 'aibom.shadow.signature': 'provider_dns', 'gen_ai.request.model': 'gpt-4o', 'network.local.port': 5353 }),
    ];
    for (const c of cases) {
      const [object, received] = bothWays(c);
      const facts = readKernelSpan(object, CORRELATE_SCOPE);
      expect(facts?.kind).toBeDefined();
      expect(readKernelSpan(received, CORRELATE_SCOPE)).toEqual(facts);
    }
  });

  test('reads the first of repeated keys, as findAttr; nothing of one span shows in the next', () => {
    const first = readKernelSpan(span([...attrs({ 'aibom.kernel.kind': 'connect', 'network.peer.address': '1.2.3.4', 'network.peer.port': 443 }), attr('network.peer.address', '5.6.7.8')]), CORRELATE_SCOPE);
    expect(first).toMatchObject({ kind: 'connect', peerAddress: '1.2.3.4', peerPort: 443 });
    const next = readKernelSpan(span(attrs({ 'aibom.kernel.kind': 'connect' })), CORRELATE_SCOPE);
    expect(next).toMatchObject({ kind: 'connect', peerAddress: undefined, peerPort: undefined, credential: false, execUnderParent: false, coverage: undefined });
  });

  test('an object span read again gives the facts read before, unless an attribute was added to it since', () => {
    const s = span(attrs({ 'aibom.kernel.kind': 'connect', 'network.peer.address': '1.2.3.4', 'network.peer.port': 443 }));
    const first = readKernelSpan(s, CORRELATE_SCOPE);
    expect(readKernelSpan(s, CORRELATE_SCOPE)).toBe(first);
    s.attributes!.push(attr('server.address', 'api.example'));
    const grown = readKernelSpan(s, CORRELATE_SCOPE);
    expect(grown).toEqual({ ...first, serverAddress: 'api.example' });
    expect(readKernelSpan(s, CORRELATE_SCOPE)).toBe(grown);
    // Another span with the same attributes (another list): read for itself.
    const twin = readKernelSpan(span(attrs({ 'aibom.kernel.kind': 'connect', 'network.peer.address': '1.2.3.4', 'network.peer.port': 443 })), CORRELATE_SCOPE);
    expect(twin).toEqual(first);
    expect(twin).not.toBe(first);
    expect(readKernelSpan(s, 'another.scope')).toBeUndefined();
  });

  test('values of other types: 64-bit integers as numbers, a body size as Number gives it, strings only where strings are read', () => {
    const facts = readKernelSpan(
      span([
        attr('aibom.kernel.kind', 'http'),
        { key: 'network.peer.port', value: { intValue: Long.fromNumber(8443) } },
        { key: 'http.request.body.size', value: { stringValue: '12' } },
        { key: 'network.peer.address', value: { intValue: 5 } },
        { key: 'aibom.identity.credential', value: { stringValue: 'true' } },
      ]),
      CORRELATE_SCOPE,
    );
    expect(facts).toMatchObject({ peerPort: 8443, bodySize: 12, peerAddress: undefined, credential: false });
  });

  test('undefined without a kind, with an empty one, or outside correlate\'s scope', () => {
    expect(readKernelSpan(span(attrs({ 'file.path': '/x' })), CORRELATE_SCOPE)).toBeUndefined();
    expect(readKernelSpan(span(attrs({ 'aibom.kernel.kind': '' })), CORRELATE_SCOPE)).toBeUndefined();
    expect(readKernelSpan(span(attrs({ 'aibom.kernel.kind': 'open' })), 'aibom.ebpf')).toBeUndefined();
    expect(readKernelSpan(span(attrs({ 'aibom.kernel.kind': 'open', 'file.path': '/x' })), CORRELATE_SCOPE)?.filePath).toBe('/x');
  });
});
