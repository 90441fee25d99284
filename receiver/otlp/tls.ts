import { readFile } from 'node:fs/promises';
import type { EventEmitter } from 'node:events';
import type { Logger } from '../../pipeline/telemetry/logger.js';
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

/**
 * A client that does not finish its TLS handshake within the server's `handshakeTimeout` is refused
 * (`onTimeout` counts it); any other TLS failure (a bad or missing client certificate) only concerns
 * that client, logged at debug. Node has closed the connection either way.
 */
export function watchTlsFailures(server: EventEmitter, onTimeout: () => void, logger: Logger, what: string): void {
  server.on('tlsClientError', (err: NodeJS.ErrnoException) => {
    if (err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') onTimeout();
    else logger.debug({ err }, `${what} TLS handshake failed`);
  });
}
