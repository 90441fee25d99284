import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import type { ClientInfo } from '../../pipeline/client-info.js';
import { MAX_LOOKUPS_PER_SECOND, SpanSourceCheck } from './span-source.js';

describe('SpanSourceCheck', () => {
  test('peers /proc cannot attribute are refused without a lookup', () => {
    const check = new SpanSourceCheck();
    expect(check.check(process.pid, undefined)).toEqual({ reason: 'no_client' });
    expect(check.check(process.pid, { transport: 'grpc', peer: undefined, localPort: 4317 })).toEqual({ reason: 'not_loopback' });
    expect(check.check(process.pid, { transport: 'http', peer: { address: '10.1.2.3', port: 5000 }, localPort: 4318 })).toEqual({ reason: 'not_loopback' });
    expect(check.owner({ transport: 'http', peer: { address: '192.168.0.9', port: 5000 }, localPort: 4318 }, [{ identity: 'a', sdkLanguage: undefined }])).toBeUndefined();
  });

  test('/proc lookups are bounded per second: a client naming pids by the thousand is rate limited', () => {
    // An empty socket table (header only), so the lookups themselves cost nothing and the test stays within one second.
    const root = mkdtempSync(path.join(tmpdir(), 'proc-'));
    try {
      mkdirSync(path.join(root, 'net'));
      for (const t of ['tcp', 'tcp6']) writeFileSync(path.join(root, 'net', t), '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n');
      const check = new SpanSourceCheck(root);
      const client = (port: number): ClientInfo => ({ transport: 'http', peer: { address: '127.0.0.1', port }, localPort: 4318 });
      const reasons = Array.from({ length: MAX_LOOKUPS_PER_SECOND + 3 }, (_, i) => {
        const r = check.check(1000 + i, client(40000 + i));
        return 'reason' in r ? r.reason : 'verified';
      });
      expect(reasons.slice(0, MAX_LOOKUPS_PER_SECOND)).toEqual(Array(MAX_LOOKUPS_PER_SECOND).fill('connection_not_found'));
      expect(reasons.slice(MAX_LOOKUPS_PER_SECOND)).toEqual(['rate_limited', 'rate_limited', 'rate_limited']);
      expect(check.owner(client(39999), [{ identity: 'a', sdkLanguage: undefined }])).toBeUndefined();
    } finally {
      rmSync(root, { recursive: true });
    }
  });
});
