import type { Config } from '../config.ts';
import { ADDON_CANDIDATES, loadFanoutAddon } from './native-addon.ts';

// The same frame to many sockets in one call (native/fanout.c). Where it loads, the hub's fan-out uses it (fanout.ts);
// without it every client's frame goes through its net.Socket: the same bytes, at a measurably higher server CPU cost
// per delivery (bench:fanout --writer; the figures are in BENCHMARKS.md).

export interface BatchWriter {
  /** what wrote: the addon's path */
  readonly source: string;
  /**
   * Sends `bytes` to each of the first `count` descriptors of `fds` without blocking; `results[i]` is what the
   * kernel took for `fds[i]` (possibly less than `bytes.length`, 0 when its buffer is full) or -errno.
   */
  writeAll(fds: Int32Array, count: number, bytes: Uint8Array, results: Int32Array): void;
}

/** The native writer, or why there is none. */
export function loadNativeBatchWriter(candidates: readonly string[] = ADDON_CANDIDATES): BatchWriter | { error: string } {
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
  candidates: readonly string[] = ADDON_CANDIDATES,
): { writer: BatchWriter | undefined; note: string } {
  if (setting === 'js') return { writer: undefined, note: 'net.Socket writes (FANOUT_WRITER=js)' };
  const loaded = loadNativeBatchWriter(candidates);
  if ('writeAll' in loaded) return { writer: loaded, note: `native batched writes (${loaded.source})` };
  if (setting === 'native') throw new Error(`FANOUT_WRITER=native: ${loaded.error}`);
  return { writer: undefined, note: `net.Socket writes: ${loaded.error}` };
}
