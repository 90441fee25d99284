import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/** One request as stored on disk: payload in the encoding the exporter used when it queued it. */
export interface StoredRequest {
  key: string;
  items: number;
  encoding: 'proto' | 'json';
  payload: Uint8Array;
}

const NAME = /^(\d{12})-(\d+)\.(pb|json)$/;

/**
 * The on-disk half of a persistent sending queue: one file per queued request, named
 * `<sequence>-<items>.<pb|json>` so a restart restores order and counts without decoding.
 *
 * Durability: a file is written under a `.tmp` name, fsync'd, then renamed, so a file with a final
 * name is always complete (a crash leaves at most a `.tmp`, deleted on open). The directory itself
 * is not fsync'd per file: a process crash loses nothing, a power loss may lose the last renames.
 */
export class DiskStore {
  private seq = 0;

  constructor(readonly dir: string) {}

  /** Creates the directory and returns what a previous run left, oldest first. */
  async open(): Promise<StoredRequest[]> {
    await mkdir(this.dir, { recursive: true });
    const out: StoredRequest[] = [];
    const names = (await readdir(this.dir)).sort();
    for (const name of names) {
      if (name.endsWith('.tmp')) {
        await rm(path.join(this.dir, name), { force: true });
        continue;
      }
      const m = NAME.exec(name);
      if (!m) continue;
      this.seq = Math.max(this.seq, Number(m[1]));
      const payload = await readFile(path.join(this.dir, name));
      out.push({ key: name, items: Number(m[2]), encoding: m[3] === 'pb' ? 'proto' : 'json', payload });
    }
    return out;
  }

  /** Writes a request durably; resolves with its key once it is on disk. */
  async put(payload: Uint8Array, items: number, encoding: 'proto' | 'json'): Promise<string> {
    const key = `${String(++this.seq).padStart(12, '0')}-${items}.${encoding === 'proto' ? 'pb' : 'json'}`;
    const final = path.join(this.dir, key);
    const tmp = `${final}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(payload);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, final);
    return key;
  }

  async remove(key: string): Promise<void> {
    await rm(path.join(this.dir, key), { force: true });
  }
}
