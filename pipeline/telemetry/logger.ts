import pino from 'pino';
import { REDACTED } from '../redact.js';

export type Logger = pino.Logger;

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * Fields whose values never reach the log, at the top or one level down (`{ config: { headers } }`).
 * Components do not log credentials; this catches the one that forgets.
 */
export const LOG_REDACT_PATHS: readonly string[] = ['headers', 'authorization', 'bearerToken', 'bearer_token', 'token', 'password', 'apiKey', 'api_key'].flatMap(
  (k) => [k, `*.${k}`],
);

/** The collector's own log, as JSON lines on stderr so stdout stays free for data (debug exporter). */
export function createLogger(level: LogLevel = 'info', destination: pino.DestinationStream = pino.destination({ fd: 2, sync: false })): Logger {
  return pino({ level, base: { service: 'aibom-collector' }, redact: { paths: [...LOG_REDACT_PATHS], censor: REDACTED } }, destination);
}

/** A logger that discards everything, for tests and tools that only validate. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
