import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  addressKey,
  clientSocketInode,
  holdsSocket,
  isLoopbackKey,
  mismatch,
  parentPid,
  parseProcNetTcp,
  socketHolderInLineage,
  socketHolders,
  socketOwner,
} from './process-identity.js';

describe('announced workloads are checked against /proc before the sensor watches them', () => {
  let child: ReturnType<typeof spawn>;
  beforeAll(() => {
    child = spawn('sleep', ['30'], { stdio: 'ignore' });
  });
  afterAll(() => {
    child.kill();
  });

  test('the same process: command line and executable name agree', () => {
    expect(mismatch({ pid: child.pid!, commandArgs: ['sleep', '30'], executableName: 'sleep', })).toBeUndefined();
    expect(mismatch({ pid: child.pid!, commandArgs: ['/usr/bin/sleep', '30'], })).toBeUndefined();
    expect(mismatch({ pid: child.pid! })).toBeUndefined();
    // Node's SDK reports process.title, the path it was started by.
    expect(mismatch({ pid: child.pid!, executableName: '/usr/bin/sleep' })).toBeUndefined();
  });

  test('a pid from another namespace or reused: not watched, and the reason says why', () => {
    expect(mismatch({ pid: child.pid!, commandArgs: ['node', 'agent.mjs'], })).toMatch(/^command line differs/);
    expect(mismatch({ pid: child.pid!, executableName: 'python3', })).toMatch(/^executable differs/);
    expect(mismatch({ pid: child.pid!, executableName: '/usr/bin/python3', })).toMatch(/^executable differs/);
    expect(mismatch({ pid: 2 ** 22 + 7, })).toMatch(/^no process/);
  });

  test('compared redacted: a command line that arrives redacted still matches; the message never shows a secret', async () => {
    const secret = 'sk-live-0123456789abcdef';
    const script = 'import sys, time; print("up", flush=True); time.sleep(30)';
    const p = spawn('python3', ['-c', script, '--token', secret], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise((resolve) => p.stdout!.once('data', resolve));
      expect(mismatch({ pid: p.pid!, commandArgs: ['python3', '-c', script, '--token', secret] })).toBeUndefined();
      expect(mismatch({ pid: p.pid!, commandArgs: ['python3', '-c', script, '--token', '[REDACTED]'] })).toBeUndefined();
      const why = mismatch({ pid: p.pid!, commandArgs: ['python3', 'other.py', `--api-key=${secret}`] });
      expect(why).toMatch(/^command line differs/);
      expect(why).not.toContain(secret);
    } finally {
      p.kill();
    }
  });
});

describe('/proc/net/tcp{,6}: the client socket of a loopback connection', () => {
  // Captured on this machine with three open loopback connections (see proc-net-tcp.json: the peer as
  // the server saw it, and the client socket's inode read from /proc/self/fd).
  const testdata = path.join(path.dirname(fileURLToPath(import.meta.url)), 'testdata');
  const cases = JSON.parse(readFileSync(path.join(testdata, 'proc-net-tcp.json'), 'utf8')) as {
    listen: string;
    connect: string;
    peer: { address: string; port: number };
    serverPort: number;
    inode: number;
  }[];

  test('parses both tables into comparable addresses, ports and inodes', () => {
    const v4 = parseProcNetTcp(readFileSync(path.join(testdata, 'proc-net-tcp.txt'), 'latin1'));
    const v6 = parseProcNetTcp(readFileSync(path.join(testdata, 'proc-net-tcp6.txt'), 'latin1'));
    expect(v4.length).toBeGreaterThan(2);
    const client = v4.find((s) => s.inode === cases[0]!.inode)!;
    expect(client).toMatchObject({ localAddress: addressKey('127.0.0.1'), localPort: cases[0]!.peer.port, remoteAddress: addressKey('127.0.0.1'), remotePort: cases[0]!.serverPort });
    expect(v6.find((s) => s.inode === cases[1]!.inode)).toMatchObject({ localAddress: addressKey('::1'), localPort: cases[1]!.peer.port, remotePort: cases[1]!.serverPort });
    // A listening socket: the remote end is all zeroes.
    expect(v4.some((s) => s.remotePort === 0 && s.remoteAddress === addressKey('0.0.0.0'))).toBe(true);
  });

  test.each([0, 1, 2])('finds the client socket of connection %i from the peer the server saw', (i) => {
    const c = cases[i]!;
    const root = mkdtempSync(path.join(tmpdir(), 'proc-'));
    try {
      mkdirSync(path.join(root, 'net'));
      copyFileSync(path.join(testdata, 'proc-net-tcp.txt'), path.join(root, 'net', 'tcp'));
      copyFileSync(path.join(testdata, 'proc-net-tcp6.txt'), path.join(root, 'net', 'tcp6'));
      const key = addressKey(c.peer.address)!;
      expect(isLoopbackKey(key)).toBe(true);
      expect(clientSocketInode(key, c.peer.port, c.serverPort, root)).toBe(c.inode);
      // Not the server's accepted socket of the same connection, nor another port.
      expect(clientSocketInode(key, c.serverPort, c.peer.port, root)).not.toBe(c.inode);
      expect(clientSocketInode(key, c.peer.port, c.serverPort + 1, root)).toBeUndefined();
    } finally {
      rmSync(root, { recursive: true });
    }
  });

  test('addresses in every notation compare equal; only loopback is loopback', () => {
    expect(addressKey('::ffff:127.0.0.1')).toBe(addressKey('127.0.0.1'));
    expect(addressKey('[::1]')).toBe(addressKey('0:0:0:0:0:0:0:1'));
    expect(addressKey('fe80::1:2')).toBe('fe800000000000000000000000010002');
    expect(addressKey('not an address')).toBeUndefined();
    for (const a of ['127.0.0.1', '127.3.2.1', '::1', '::ffff:127.0.0.1']) expect(isLoopbackKey(addressKey(a)!), a).toBe(true);
    for (const a of ['10.0.0.1', '::', '::2', '::ffff:10.0.0.1', '0.0.0.0']) expect(isLoopbackKey(addressKey(a)!), a).toBe(false);
  });
});

describe('who holds a connection (live /proc)', () => {
  let server: net.Server;
  let client: net.Socket;
  let child: ReturnType<typeof spawn>;
  let inode: number;
  beforeAll(async () => {
    server = net.createServer(() => undefined);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await once(client, 'connect');
    const found = clientSocketInode(addressKey(client.localAddress!)!, client.localPort!, (server.address() as net.AddressInfo).port);
    expect(found).toBeDefined();
    inode = found!;
    child = spawn('sleep', ['30'], { stdio: 'ignore' });
  });
  afterAll(() => {
    child.kill();
    client.destroy();
    server.close();
  });

  test('this process holds its client socket; its child inherits nothing but has it in its lineage', () => {
    expect(holdsSocket(process.pid, inode)).toBe(true);
    expect(holdsSocket(child.pid!, inode)).toBe(false);
    expect(socketHolderInLineage(process.pid, inode)).toBe(process.pid);
    expect(socketHolderInLineage(child.pid!, inode)).toBe(process.pid);
    expect(parentPid(child.pid!)).toBe(process.pid);
  });

  test('without a claim, the one process holding the connection is found by scanning /proc', () => {
    expect(socketHolders(inode)).toEqual([process.pid]);
    expect(socketOwner(inode)).toBe(process.pid);
    expect(socketOwner(2 ** 31 - 1)).toBeUndefined();
  });

  test('a process outside the holder lineage is not the sender', () => {
    expect(socketHolderInLineage(process.ppid, inode)).toBeUndefined();
    expect(socketHolderInLineage(1, inode)).toBeUndefined();
    expect(socketHolderInLineage(2 ** 22 + 7, inode)).toBeUndefined();
  });
});
