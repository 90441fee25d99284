import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { createContainerResolver, parseCgroupFile, parseCgroupPath, podFromEnviron } from './container.js';

const ID = 'a'.repeat(12) + '0123456789abcdef'.repeat(3) + 'b'.repeat(4);
const UID = '3f1c6a52-9d1e-4b7a-8c55-0e2f1a9b7c10';

describe('container identity from cgroup paths', () => {
  test.each([
    ['docker cgroupfs', `/docker/${ID}`, { containerId: ID }],
    ['docker systemd', `/system.slice/docker-${ID}.scope`, { containerId: ID }],
    ['containerd (k8s, systemd driver)', `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID.replace(/-/g, '_')}.slice/cri-containerd-${ID}.scope`, { containerId: ID, podUid: UID }],
    ['k8s cgroupfs driver', `/kubepods/besteffort/pod${UID}/${ID}`, { containerId: ID, podUid: UID }],
    ['cri-o', `/kubepods.slice/kubepods-pod${UID.replace(/-/g, '_')}.slice/crio-${ID}.scope`, { containerId: ID, podUid: UID }],
    ['podman', `/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${ID}.scope/container`, { containerId: ID }],
    ['conmon is not the container', `/machine.slice/libpod-conmon-${ID}.scope`, {}],
    ['host process', '/user.slice/user-1000.slice/session-3.scope', {}],
    ['root', '/', {}],
  ])('%s', (_name, p, want) => {
    expect(parseCgroupPath(p)).toEqual(want);
  });

  test('/proc/<pid>/cgroup: v2 line first, v1 lines as fallback', () => {
    expect(parseCgroupFile(`12:memory:/docker/${ID}\n0::/\n`)).toEqual({ containerId: ID });
    expect(parseCgroupFile(`0::/system.slice/docker-${ID}.scope\n`)).toEqual({ containerId: ID });
    expect(parseCgroupFile('0::/init.scope\n')).toEqual({});
  });

  test('pod name and namespace only from the environment', () => {
    expect(podFromEnviron('PATH=/bin\0HOSTNAME=agent-7d9f\0POD_NAMESPACE=ai\0')).toEqual({ podName: 'agent-7d9f', namespace: 'ai' });
    expect(podFromEnviron('POD_NAME=agent-1\0HOSTNAME=other\0')).toEqual({ podName: 'agent-1' });
  });

  test('resolver caches per cgroup id, does not cache a vanished process', () => {
    const proc = mkdtempSync(path.join(tmpdir(), 'proc-'));
    try {
      mkdirSync(path.join(proc, '10'));
      writeFileSync(path.join(proc, '10', 'cgroup'), `0::/kubepods/burstable/pod${UID}/${ID}\n`);
      writeFileSync(path.join(proc, '10', 'environ'), 'HOSTNAME=agent-0\0POD_NAMESPACE=prod\0');
      const r = createContainerResolver({ procRoot: proc });
      expect(r.resolve(77n, 11)).toEqual({}); // gone: unknown, retried later
      expect(r.size).toBe(0);
      expect(r.resolve(77n, 10)).toEqual({ containerId: ID, podUid: UID, podName: 'agent-0', namespace: 'prod' });
      rmSync(path.join(proc, '10'), { recursive: true });
      expect(r.resolve(77n, 12)).toEqual({ containerId: ID, podUid: UID, podName: 'agent-0', namespace: 'prod' });
      expect(r.size).toBe(1);
    } finally {
      rmSync(proc, { recursive: true, force: true });
    }
  });
});
