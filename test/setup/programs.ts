import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type Program, locate } from '../../scripts/binaries.ts';

// Which test files need which external programs, read from what they call, and which of those programs this machine
// lacks. Locally a file whose program is missing is left out of the run with the reason printed; under CI=true a
// missing program fails the run instead, so nothing silently skips there.

/** A call in a test file → the programs it starts. */
const NEEDS: readonly [RegExp, readonly Program[]][] = [
  [/\blaunchChromium\(/, ['chromium']],
  [/\bstartStack\(|\bnginxBinary\(/, ['nginx', 'redis-server']],
  [/\bstartRedisServer\(/, ['redis-server']],
  [/\bstartRedisCluster\(/, ['redis-server', 'redis-cli']],
  [/spawnSync\('envsubst'/, ['envsubst']],
];
/** The shared Redis of the global setup (inject('redisUrl')): redis-server, unless REDIS_URL or Docker provides it. */
const SHARED_REDIS = /\binject\('redisUrl'\)/;

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return testFiles(path);
    return e.name.endsWith('.test.ts') ? [path] : [];
  });
}

export const isCi = (): boolean => process.env.CI === 'true' || process.env.CI === '1';

/**
 * Test files (relative to `root`) to leave out because a program they need is missing, each reason printed once.
 * Under CI=true: throws instead, naming every missing program.
 */
export function filesMissingPrograms(root: string, sharedRedisElsewhere: boolean): string[] {
  const missing = new Map<Program, string>();
  const check = (p: Program): boolean => {
    if (missing.has(p)) return false;
    const found = locate(p);
    if ('missing' in found) {
      missing.set(p, found.missing);
      return false;
    }
    return true;
  };
  const skipped: string[] = [];
  const because = new Map<Program, string[]>();
  for (const file of testFiles(join(root, 'test'))) {
    const text = readFileSync(file, 'utf8');
    const needs = new Set<Program>(NEEDS.flatMap(([re, programs]) => (re.test(text) ? programs : [])));
    if (SHARED_REDIS.test(text) && !sharedRedisElsewhere) needs.add('redis-server');
    const lacking = [...needs].filter((p) => !check(p));
    if (lacking.length === 0) continue;
    const rel = relative(root, file);
    skipped.push(rel);
    for (const p of lacking) because.set(p, [...(because.get(p) ?? []), rel]);
  }
  if (missing.size === 0) return [];
  const lines = [...because].map(([p, files]) => `  ${missing.get(p)}\n    needed by ${files.join(', ')}`);
  if (isCi()) throw new Error(`CI=true and programs the tests need are missing:\n${lines.join('\n')}`);
  process.stderr.write(`skipping test files whose programs are missing:\n${lines.join('\n')}\n`);
  return skipped;
}
