import pino from 'pino';

export type Logger = pino.Logger;

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** The collector's own log, as JSON lines on stderr so stdout stays free for data (debug exporter). */
export function createLogger(level: LogLevel = 'info'): Logger {
  return pino({ level, base: { service: 'aibom-collector' } }, pino.destination({ fd: 2, sync: false }));
}

/** A logger that discards everything, for tests and tools that only validate. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
