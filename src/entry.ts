import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig, type Config } from './config.ts';

// What the two entry points (src/server.ts, workers/ephemeris-worker.ts) share: how a bad configuration ends the
// process, and how SIGTERM/SIGINT start a shutdown.

/** The configuration, or exit 2 with the reason on stderr (plain text: there is no logger before the config). */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
}

/**
 * Calls `stop` on the first SIGTERM or SIGINT. Later signals are still caught and ignored, so a second Ctrl-C
 * does not cut the shutdown in progress short (each entry point has its own deadline for that).
 */
export function onStopSignal(stop: (signal: NodeJS.Signals) => void): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    stop(signal);
  };
  process.on('SIGTERM', handle);
  process.on('SIGINT', handle);
}

/** The soft limit on open files of this process (Linux /proc/self/limits); 1024 where it cannot be read. */
export function openFileLimit(): number {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : 1024;
  } catch {
    return 1024;
  }
}
