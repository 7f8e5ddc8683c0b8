import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileC } from '../../scripts/cc.ts';

// Builds bench/fanout/load-client.c with the system C compiler into a fresh temporary directory (binaries are never
// kept in the tree). Returns the binary's path and a remover, or the reason it could not be built.

export const LOAD_CLIENT_SOURCE = fileURLToPath(new URL('./load-client.c', import.meta.url));

export type NativeBuild = { ok: true; binary: string; remove(): void } | { ok: false; reason: string };

export function buildNativeLoadClient(cc = process.env.CC || 'cc'): NativeBuild {
  const dir = mkdtempSync(join(tmpdir(), 'orrery-load-client-'));
  const binary = join(dir, 'load-client');
  const failed = compileC(['-O2', '-Wall', '-Wextra', '-o', binary, LOAD_CLIENT_SOURCE], cc);
  if (failed) {
    rmSync(dir, { recursive: true, force: true });
    return { ok: false, reason: failed };
  }
  return { ok: true, binary, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
