import { execFileSync } from 'node:child_process';

// The system C compiler, for the project's two pieces of C: the API nodes' fan-out writer (scripts/build.ts) and the
// benchmark's load client (bench/fanout/native-client.ts).

/** Runs `cc` with `args`; undefined when it succeeded, else why not (no compiler, or what it said). */
export function compileC(args: readonly string[], cc = process.env.CC || 'cc'): string | undefined {
  try {
    execFileSync(cc, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    return undefined;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    return e.code === 'ENOENT' ? `no C compiler (${cc})` : `${cc} failed: ${e.stderr?.toString().trim() || e.message}`;
  }
}
