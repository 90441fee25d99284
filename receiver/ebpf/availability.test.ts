import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { effectiveCapabilities, missingPrivileges, preflight, sensorExitReason } from './availability.js';

describe('availability', () => {
  test('preflight names exactly what is missing', () => {
    expect(preflight('/bin/true', { platform: 'darwin' }).problem).toBe('eBPF sensor disabled: eBPF needs Linux, this is darwin');
    expect(preflight('/nonexistent/aibom-sensor', { platform: 'linux' }).problem).toBe(
      'eBPF sensor disabled: sensor binary /nonexistent/aibom-sensor not found (build it with make -C bpf, or set sensor.path)',
    );
    const dir = mkdtempSync(path.join(tmpdir(), 'pf-'));
    const plain = path.join(dir, 'aibom-sensor');
    writeFileSync(plain, 'x', { mode: 0o644 });
    expect(preflight(plain, { platform: 'linux' }).problem).toBe(`eBPF sensor disabled: sensor binary ${plain} is not executable (EACCES)`);
    expect(preflight(dir, { platform: 'linux' }).problem).toBe(`eBPF sensor disabled: ${dir} is not a file (sensor.path)`);
    rmSync(dir, { recursive: true });
    expect(preflight('/bin/true', { platform: 'linux', btfPath: '/nonexistent/vmlinux' }).problem).toBe('eBPF sensor disabled: /nonexistent/vmlinux not found (kernel without BTF)');
    expect(preflight('/bin/true', { platform: 'linux', btfPath: '/bin/true', capEff: 0n, uid: 1000 })).toEqual({
      privileges: 'not root and missing CAP_BPF+CAP_PERFMON (CapEff=0000000000000000)',
    });
    expect(preflight('/bin/true', { platform: 'linux', btfPath: '/bin/true', capEff: (1n << 38n) | (1n << 39n), uid: 1000 })).toEqual({});
  });

  test('capabilities from /proc/self/status', () => {
    expect(effectiveCapabilities('Name:\tnode\nCapEff:\t000001ffffffffff\n')).toBe(0x1ffffffffffn);
    expect(missingPrivileges(1n << 21n, 1000)).toBeUndefined(); // CAP_SYS_ADMIN
    expect(missingPrivileges(1n << 39n, 1000)).toBe('not root and missing CAP_PERFMON (CapEff=0000008000000000)');
  });

  test('every sensor exit code has its sentence', () => {
    expect(sensorExitReason(2, null, '')).toBe('/sys/kernel/btf/vmlinux not found (kernel without BTF)');
    expect(sensorExitReason(3, null, 'aibom-sensor: missing CAP_BPF\n', 'not root and missing CAP_BPF+CAP_PERFMON (CapEff=0)')).toBe(
      'missing privileges: the sensor needs root or CAP_BPF+CAP_PERFMON (collector: not root and missing CAP_BPF+CAP_PERFMON (CapEff=0); give the sensor file capabilities or run it with mode: socket): aibom-sensor: missing CAP_BPF',
    );
    expect(sensorExitReason(1, null, 'aibom-sensor: --pid: bad pid')).toBe('the sensor rejected its arguments (exit 1): aibom-sensor: --pid: bad pid');
    expect(sensorExitReason(4, null, '')).toMatch(/^tracefs is not mounted/);
    expect(sensorExitReason(5, null, '')).toMatch(/^loading the BPF programs failed \(exit 5; set verbose: true/);
    expect(sensorExitReason(6, null, '')).toMatch(/^attaching the BPF programs failed/);
    expect(sensorExitReason(7, null, '')).toMatch(/^the sensor could not write its output/);
    expect(sensorExitReason(null, 'SIGKILL', '')).toBe('the sensor was killed by SIGKILL');
  });
});
