import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Builds bench/fanout/load-client.c with the system C compiler into a fresh temporary directory (binaries are never
// kept in the tree). Returns the binary's path and a remover, or the reason it could not be built.

export const LOAD_CLIENT_SOURCE = fileURLToPath(new URL('./load-client.c', import.meta.url));

export type NativeBuild = { ok: true; binary: string; remove(): void } | { ok: false; reason: string };

export function buildNativeLoadClient(cc = process.env.CC || 'cc'): NativeBuild {
  const dir = mkdtempSync(join(tmpdir(), 'orrery-load-client-'));
  const binary = join(dir, 'load-client');
  try {
    execFileSync(cc, ['-O2', '-Wall', '-Wextra', '-o', binary, LOAD_CLIENT_SOURCE], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    const said = e.stderr?.toString().trim();
    return { ok: false, reason: e.code === 'ENOENT' ? `no C compiler (${cc})` : `${cc} failed: ${said || e.message}` };
  }
  return { ok: true, binary, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
