import { pino, type Logger } from 'pino';

// One structured JSON logger per process (stdout), so the stack, the tests and log shippers read the same lines.
// Modules take a Logger (usually a child with `component`) instead of importing a global, which keeps them testable.

export type { Logger };

export function createLogger(level: string = 'info', name = 'orrery'): Logger {
  return pino({ name, level, base: { pid: process.pid } });
}

/** A logger that drops everything, for unit tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
