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

/** The addon's exports (each checked by whoever uses it), or why it cannot be loaded. */
export function loadFanoutAddon(candidates: readonly string[] = CANDIDATES): { file: string; addon: Record<string, unknown> } | { error: string } {
  const file = candidates.find((f) => existsSync(f));
  if (!file) return { error: `no native fan-out writer at ${candidates.join(' or ')} (npm run build makes it)` };
  try {
    return { file, addon: createRequire(import.meta.url)(file) as Record<string, unknown> };
  } catch (err) {
    return { error: `${file} could not be loaded: ${(err as Error).message}` };
  }
}

/** The native writer, or why there is none. */
export function loadNativeBatchWriter(candidates: readonly string[] = CANDIDATES): BatchWriter | { error: string } {
  const loaded = loadFanoutAddon(candidates);
  if ('error' in loaded) return loaded;
  const writeAll = loaded.addon.writeAll as BatchWriter['writeAll'] | undefined;
  if (typeof writeAll !== 'function') return { error: `${loaded.file} has no writeAll()` };
  return { source: loaded.file, writeAll };
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
