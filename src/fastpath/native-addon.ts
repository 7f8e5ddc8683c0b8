import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

// native/fanout.c, built by `npm run build` as dist/fanout.node: the batched writer (batch-writer.ts) and the kernel
// queue probe (kernel-stall.ts). Each user checks the export it needs.

// dist/server.js finds it beside itself; src/fastpath/native-addon.ts (npm start, tests) in the repository's dist/.
export const ADDON_CANDIDATES = [new URL('./fanout.node', import.meta.url), new URL('../../dist/fanout.node', import.meta.url)].map((u) =>
  fileURLToPath(u),
);

/** The addon's exports, or why it cannot be loaded. */
export function loadFanoutAddon(
  candidates: readonly string[] = ADDON_CANDIDATES,
): { file: string; addon: Record<string, unknown> } | { error: string } {
  const file = candidates.find((f) => existsSync(f));
  if (!file) return { error: `no native fan-out writer at ${candidates.join(' or ')} (npm run build makes it)` };
  try {
    return { file, addon: createRequire(import.meta.url)(file) as Record<string, unknown> };
  } catch (err) {
    return { error: `${file} could not be loaded: ${(err as Error).message}` };
  }
}
