import dgram from 'node:dgram';

export interface DnsResponder {
  /** The loopback address it answers on, port 53 (the sensor reads DNS on port 53 only). */
  address: string;
  /** Names asked, in order. */
  queries: string[];
  close: () => void;
}

/**
 * A DNS responder answering every A query with 127.0.0.1, on port 53 of a random 127.x.y.z (all of
 * 127/8 is loopback), so suites running at once on one machine do not take each other's address; an
 * address in use is replaced by another.
 */
export async function startDnsResponder(): Promise<DnsResponder> {
  for (let attempt = 0; ; attempt++) {
    const address = `127.${53 + Math.floor(Math.random() * 150)}.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
    try {
      return await bind(address);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5) throw err;
    }
  }
}

async function bind(address: string): Promise<DnsResponder> {
  const sock = dgram.createSocket('udp4');
  const queries: string[] = [];
  sock.on('message', (q, peer) => {
    const labels: string[] = [];
    let pos = 12;
    while (pos < q.length && q[pos]! > 0) {
      labels.push(q.toString('latin1', pos + 1, pos + 1 + q[pos]!));
      pos += 1 + q[pos]!;
    }
    queries.push(labels.join('.'));
    const question = q.subarray(12, pos + 5);
    const header = Buffer.from([q[0]!, q[1]!, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]);
    const answer = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 127, 0, 0, 1]);
    sock.send(Buffer.concat([header, question, answer]), peer.port, peer.address);
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', (err) => {
      sock.close();
      reject(err);
    });
    sock.bind(53, address, () => resolve());
  });
  return { address, queries, close: () => sock.close() };
}
