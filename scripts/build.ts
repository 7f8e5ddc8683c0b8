import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { compileC } from './cc.ts';
import { fileURLToPath } from 'node:url';

// `npm run build`: bundles the two entry points into dist/ as plain JavaScript, so production processes start with
// `node dist/server.js` instead of `node --import tsx src/server.ts`. tsx compiles each module on load in a loader
// thread of its own that stays resident (≈ 25 MB of RSS per idle API process here); at tens of thousands of streams over several
// API processes that fixed cost is a large share of the memory per connection. Dependencies stay in node_modules.
// dist/server.js sits one level below the repository root, like src/server.ts, so paths it derives from
// import.meta.url (the web/ directory) are the same in both.

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

export const BUILT_ENTRIES = {
  'src/server.ts': 'dist/server.js',
  'workers/ephemeris-worker.ts': 'dist/ephemeris-worker.js',
} as const;

/** The batched socket writer of the hub (native/fanout.c), built next to the bundles; see src/fastpath/batch-writer.ts. */
export const NATIVE_FANOUT = 'dist/fanout.node';

export type NativeFanoutBuild = { ok: true; file: string } | { ok: false; reason: string };

/**
 * Compiles native/fanout.c against the running Node's Node-API headers into dist/fanout.node (replaced at once, like
 * the bundles). Without a C compiler or the headers the API nodes write through net.Socket instead: slower, same bytes.
 */
export function buildNativeFanout(cc = process.env.CC || 'cc'): NativeFanoutBuild {
  const include = join(dirname(process.execPath), '..', 'include', 'node');
  if (!existsSync(join(include, 'node_api.h'))) return { ok: false, reason: `no Node-API headers in ${include}` };
  const file = join(REPO_ROOT, NATIVE_FANOUT);
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const failed = compileC(['-O2', '-Wall', '-Wextra', '-shared', '-fPIC', '-I', include, '-o', tmp, join(REPO_ROOT, 'native', 'fanout.c')], cc);
  if (failed) {
    rmSync(tmp, { force: true });
    return { ok: false, reason: failed };
  }
  renameSync(tmp, file);
  return { ok: true, file };
}

export async function buildDist(): Promise<void> {
  const { outputFiles } = await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: Object.entries(BUILT_ENTRIES).map(([input, output]) => ({ in: input, out: output.replace(/^dist\/|\.js$/g, '') })),
    outdir: 'dist',
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node22',
    sourcemap: true,
    logLevel: 'warning',
    write: false,
  });
  // Each file replaced at once (rename), so a process starting from dist/ while another build runs (tests, the
  // stack, a benchmark) never reads a half-written bundle.
  mkdirSync(join(REPO_ROOT, 'dist'), { recursive: true });
  for (const file of outputFiles) {
    const tmp = `${file.path}.${process.pid}.tmp`;
    writeFileSync(tmp, file.contents);
    renameSync(tmp, file.path);
  }
  const native = buildNativeFanout();
  if (!native.ok) process.stderr.write(`build: ${NATIVE_FANOUT} not built (${native.reason}); API nodes will write through net.Socket\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await buildDist();
