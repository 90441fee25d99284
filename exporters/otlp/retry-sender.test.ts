import { describe, expect, it } from 'vitest';
import { createDefaultConfig } from './config.js';
import { Backoff } from './retry-sender.js';
import { decodeRpcStatus, encodeRpcStatus } from '../../pipeline/otlp/rpc-status.js';

describe('Backoff', () => {
  const cfg = createDefaultConfig('grpc').retryOnFailure;

  it('grows by the multiplier up to max_interval', () => {
    const b = new Backoff({ ...cfg, randomizationFactor: 0 });
    expect(Array.from({ length: 8 }, () => b.next())).toEqual([5000, 7500, 11250, 16875, 25313, 30000, 30000, 30000]);
  });

  it('jitters within ± randomization_factor', () => {
    expect(new Backoff(cfg, () => 0).next()).toBe(2500);
    expect(new Backoff(cfg, () => 0.999999).next()).toBe(7500);
  });
});

describe('google.rpc.Status with RetryInfo', () => {
  it('round-trips the retry delay', () => {
    expect(decodeRpcStatus(encodeRpcStatus({ code: 14, message: 'busy', retryDelayMs: 1_250 }))).toEqual({ code: 14, message: 'busy', retryDelayMs: 1_250 });
    expect(decodeRpcStatus(encodeRpcStatus({ code: 8, message: 'no hint' }))).toEqual({ code: 8, message: 'no hint' });
  });
});
