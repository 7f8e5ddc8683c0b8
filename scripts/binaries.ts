import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

// The external programs the tests and `npm run stack` run, found on PATH (plus the sbin directories, which a
// non-root PATH often lacks) or where an environment variable says: no install layout is assumed.

export const PROGRAMS = {
  chromium: { env: 'CHROMIUM_PATH', names: ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'], install: 'chromium' },
  nginx: { env: 'NGINX_PATH', names: ['nginx'], install: 'nginx' },
  'redis-server': { env: 'REDIS_SERVER_PATH', names: ['redis-server'], install: 'redis-server' },
  'redis-cli': { env: 'REDIS_CLI_PATH', names: ['redis-cli'], install: 'redis-tools' },
  envsubst: { env: 'ENVSUBST_PATH', names: ['envsubst'], install: 'gettext-base' },
} as const;

export type Program = keyof typeof PROGRAMS;

const EXTRA_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The program's path, or why it was not found (naming the variable and the package that provides it). */
export function locate(program: Program, env: NodeJS.ProcessEnv = process.env): { path: string } | { missing: string } {
  const { env: variable, names, install } = PROGRAMS[program];
  const override = env[variable];
  if (override) {
    return isExecutableFile(override) ? { path: override } : { missing: `${variable}=${override} is not an executable file` };
  }
  const dirs = [...(env.PATH ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const name of names) {
    for (const dir of dirs) {
      const path = join(dir, name);
      if (isExecutableFile(path)) return { path };
    }
  }
  return { missing: `${program} not found on PATH (or set ${variable}); on Debian: apt-get install ${install}` };
}

/** The program's path; throws the reason when it is missing. */
export function programPath(program: Program): string {
  const found = locate(program);
  if ('missing' in found) throw new Error(found.missing);
  return found.path;
}
