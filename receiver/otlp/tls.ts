import { readFile } from 'node:fs/promises';
import type { TlsConfig } from './config.js';

export interface LoadedTls {
  cert: Buffer;
  key: Buffer;
  clientCa?: Buffer;
}

/** Reads the certificate files at start (not at config time), naming the key of a file that fails. */
export async function loadTls(config: TlsConfig, path: string): Promise<LoadedTls> {
  const read = async (key: string, file: string): Promise<Buffer> => {
    try {
      return await readFile(file);
    } catch (err) {
      throw new Error(`${path}.${key}: cannot read ${file}: ${(err as Error).message}`);
    }
  };
  const out: LoadedTls = {
    cert: await read('cert_file', config.certFile),
    key: await read('key_file', config.keyFile),
  };
  if (config.clientCaFile !== undefined) out.clientCa = await read('client_ca_file', config.clientCaFile);
  return out;
}
