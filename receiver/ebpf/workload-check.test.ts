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
});
