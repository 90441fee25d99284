import { describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from './consumer.js';
import { PendingEmits, type PendingDropReason } from './pending-emits.js';

function harness(max = 3) {
  const delivered: number[] = [];
  const dropped: [number, PendingDropReason][] = [];
  let refuse: Error | undefined;
  const q = new PendingEmits<number>({
    max,
    send: async (n) => {
      if (refuse) throw refuse;
      delivered.push(n);
    },
    dropped: (n, reason) => dropped.push([n, reason]),
  });
  return { q, delivered, dropped, refuse: (e: Error | undefined) => (refuse = e) };
}

describe('PendingEmits', () => {
  it('delivers in order and keeps what the next hop refuses for now, whatever the error, until it takes it', async () => {
    const h = harness(10);
    h.refuse(new RetryableError('queue full'));
    h.q.push(1);
    h.q.push(2);
    await h.q.flush();
    h.refuse(new Error('socket hang up')); // not a PermanentError: may pass later (consumer contract)
    await h.q.flush();
    expect(h.q.size).toBe(2);
    h.refuse(undefined);
    await h.q.flush();
    expect(h.delivered).toEqual([1, 2]);
    expect(h.dropped).toEqual([]);
  });

  it('drops and counts: the oldest past the bound, what is refused for good, what is still held at the final flush', async () => {
    const h = harness(2);
    for (const n of [1, 2, 3]) h.q.push(n);
    expect(h.dropped).toEqual([[1, 'pending_full']]);
    h.refuse(new PermanentError('invalid'));
    await h.q.flush();
    expect(h.dropped).toEqual([[1, 'pending_full'], [2, 'next_permanent_error'], [3, 'next_permanent_error']]);
    h.refuse(new RetryableError('down'));
    h.q.push(4);
    await h.q.flush(true);
    expect(h.dropped.at(-1)).toEqual([4, 'shutdown']);
    expect(h.q.size).toBe(0);
    expect(h.delivered).toEqual([]);
  });
});
