import { build } from 'esbuild';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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

export async function buildDist(): Promise<void> {
  const { outputFiles } = await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: Object.entries(BUILT_ENTRIES).map(([input, output]) => ({ in: input, out: output.replace(/^dist\/|\.js$/g, '') })),
    outdir: 'dist',
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
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
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await buildDist();
