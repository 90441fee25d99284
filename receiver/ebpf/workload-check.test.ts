import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mismatch } from './workload-check.js';

describe('announced workloads are checked against /proc before the sensor watches them', () => {
  let child: ReturnType<typeof spawn>;
  beforeAll(() => {
    child = spawn('sleep', ['30'], { stdio: 'ignore' });
  });
  afterAll(() => {
    child.kill();
  });

  test('the same process: command line and executable name agree', () => {
    expect(mismatch({ pid: child.pid!, commandArgs: ['sleep', '30'], executableName: 'sleep', reason: 't' })).toBeUndefined();
    expect(mismatch({ pid: child.pid!, commandArgs: ['/usr/bin/sleep', '30'], reason: 't' })).toBeUndefined();
    expect(mismatch({ pid: child.pid!, reason: 'no hints: trusted' })).toBeUndefined();
  });

  test('a pid from another namespace or reused: not watched, and the reason says why', () => {
    expect(mismatch({ pid: child.pid!, commandArgs: ['node', 'agent.mjs'], reason: 't' })).toMatch(/^command line differs/);
    expect(mismatch({ pid: child.pid!, executableName: 'python3', reason: 't' })).toMatch(/^executable differs/);
    expect(mismatch({ pid: 2 ** 22 + 7, reason: 't' })).toMatch(/^no process/);
  });

  test('compared and reported redacted: a redacted command line matches, the message never shows a secret', async () => {
    const secret = 'sk-live-0123456789abcdef';
    const script = 'import sys, time; print("up", flush=True); time.sleep(30)';
    const p = spawn('python3', ['-c', script, '--token', secret], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise((resolve) => p.stdout!.once('data', resolve));
      expect(mismatch({ pid: p.pid!, commandArgs: ['python3', '-c', script, '--token', secret], reason: 't' })).toBeUndefined();
      expect(mismatch({ pid: p.pid!, commandArgs: ['python3', '-c', script, '--token', '[REDACTED]'], reason: 't' })).toBeUndefined();
      const why = mismatch({ pid: p.pid!, commandArgs: ['python3', 'other.py', `--api-key=${secret}`], reason: 't' });
      expect(why).toMatch(/^command line differs \(telemetry: \["python3","other.py","--api-key=\[REDACTED\]"\], here: \["[^"]*python3","-c","import sys/);
      expect(why).not.toContain(secret);
    } finally {
      p.kill();
    }
  });
});
