import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

// `npm run build`: bundles the two entry points into dist/ as plain JavaScript, so production processes start with
// `node dist/server.js` instead of `node --import tsx src/server.ts`. tsx compiles each module on load in a loader
// thread of its own that stays resident (≈ 34 MB of RSS per process); at tens of thousands of streams over several
// API processes that fixed cost is a large share of the memory per connection. Dependencies stay in node_modules.
// dist/server.js sits one level below the repository root, like src/server.ts, so paths it derives from
// import.meta.url (the web/ directory) are the same in both.

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

export const BUILT_ENTRIES = {
  'src/server.ts': 'dist/server.js',
  'workers/ephemeris-worker.ts': 'dist/ephemeris-worker.js',
} as const;

/** Node flags production gives the API processes (package.json `serve`, the Dockerfile): see README "Memory". */
export const PRODUCTION_NODE_ARGS: readonly string[] = [];

export async function buildDist(): Promise<void> {
  await build({
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
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await buildDist();
