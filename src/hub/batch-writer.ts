import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config.ts';

// The same frame to many sockets in one call (native/fanout.c, built by `npm run build` as dist/fanout.node).
// The hub uses it when present; without it every client's frame goes through its net.Socket: the same bytes for
// ≈ 12 % more server CPU at 50,000 deliveries a second (bench:fanout --writer, BENCHMARKS.md).

export interface BatchWriter {
  /** what wrote: the addon's path */
  readonly source: string;
  /**
   * Sends `bytes` to each of the first `count` descriptors of `fds` without blocking; `results[i]` is what the
   * kernel took for `fds[i]` (possibly less than `bytes.length`, 0 when its buffer is full) or -errno.
   */
  writeAll(fds: Int32Array, count: number, bytes: Uint8Array, results: Int32Array): void;
}

// dist/server.js finds it beside itself; src/hub/batch-writer.ts (npm start, tests) in the repository's dist/.
const CANDIDATES = [new URL('./fanout.node', import.meta.url), new URL('../../dist/fanout.node', import.meta.url)].map((u) =>
  fileURLToPath(u),
);

/** The native writer, or why there is none. */
export function loadNativeBatchWriter(candidates: readonly string[] = CANDIDATES): BatchWriter | { error: string } {
  const file = candidates.find((f) => existsSync(f));
  if (!file) return { error: `no native fan-out writer at ${candidates.join(' or ')} (npm run build makes it)` };
  try {
    const addon = createRequire(import.meta.url)(file) as { writeAll?: BatchWriter['writeAll'] };
    if (typeof addon.writeAll !== 'function') return { error: `${file} has no writeAll()` };
    const writeAll = addon.writeAll;
    return { source: file, writeAll };
  } catch (err) {
    return { error: `${file} could not be loaded: ${(err as Error).message}` };
  }
}

/**
 * The writer FANOUT_WRITER asks for: `js` none; `native` the addon or an error; `auto` the addon when it loads.
 * `note` says what was chosen and why, for the start-up log.
 */
export function chooseBatchWriter(
  setting: Config['FANOUT_WRITER'],
  candidates: readonly string[] = CANDIDATES,
): { writer: BatchWriter | undefined; note: string } {
  if (setting === 'js') return { writer: undefined, note: 'net.Socket writes (FANOUT_WRITER=js)' };
  const loaded = loadNativeBatchWriter(candidates);
  if ('writeAll' in loaded) return { writer: loaded, note: `native batched writes (${loaded.source})` };
  if (setting === 'native') throw new Error(`FANOUT_WRITER=native: ${loaded.error}`);
  return { writer: undefined, note: `net.Socket writes: ${loaded.error}` };
}
