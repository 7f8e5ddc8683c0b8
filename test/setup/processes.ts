import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

// Project processes for tests: `node --import tsx <entry>` with a given environment, stdout parsed as pino JSON lines,
// readiness from a log line, stop by pid and wait for the exit.

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Every setting src/config.ts reads: stripped from the inherited environment so a test states what it means. */
const CONFIG_KEYS = [
  'PORT', 'HOST', 'REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_PREFIX', 'TICK_MS', 'HISTORY_SECONDS', 'HEARTBEAT_MS', 'LOG_LEVEL',
  'SLOW_CLIENT_MS', 'WORKER_LOCATIONS',
];

export interface LogLine {
  level?: number;
  msg?: string;
  [key: string]: unknown;
}

export interface ProjectProcess {
  pid: number;
  child: ChildProcess;
  logs: LogLine[];
  /** stdout lines that were not JSON, and all of stderr */
  text(): string;
  /** Resolves with the first log line (past or future) matching `predicate`. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number, what?: string): Promise<LogLine>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` (SIGTERM) by pid and waits for the exit; SIGKILL after `timeoutMs`. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnProject(entry: string, env: Record<string, string | undefined>): ProjectProcess {
  const base: Record<string, string | undefined> = { ...process.env };
  for (const k of CONFIG_KEYS) delete base[k];
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: REPO_ROOT,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  let text = '';
  const waiters = new Set<() => void>();
  let pending = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      if (!line) continue;
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        text += `${line}\n`;
      }
    }
    for (const w of [...waiters]) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      for (const w of [...waiters]) w();
      resolve({ code, signal });
    });
  });

  const proc: ProjectProcess = {
    pid: child.pid!,
    child,
    logs,
    text: () => text,
    waitForLog(predicate, timeoutMs = 20_000, what = 'log line') {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const hit = logs.find(predicate);
          if (hit) {
            done();
            resolve(hit);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(new Error(`${entry} exited (${child.exitCode ?? child.signalCode}) before ${what}:\n${tail(proc)}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${entry}: no ${what} within ${timeoutMs} ms:\n${tail(proc)}`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    exited,
    async stop(signal = 'SIGTERM', timeoutMs = 8000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        const result = await exited;
        clearTimeout(t);
        return result;
      }
      return exited;
    },
  };
  return proc;
}

function tail(p: ProjectProcess): string {
  return [...p.logs.slice(-10).map((l) => JSON.stringify(l)), p.text().slice(-2000)].join('\n');
}

export interface ApiNode extends ProjectProcess {
  url: string;
  port: number;
}

/** `npm start` (src/server.ts) on a free port; resolves when it logs that it listens. */
export async function startApiNode(env: Record<string, string | undefined>): Promise<ApiNode> {
  const p = spawnProject('src/server.ts', { PORT: '0', HOST: '127.0.0.1', ...env });
  try {
    const line = await p.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('listening'), 30_000, "'listening'");
    return Object.assign(p, { url: line.url as string, port: line.port as number });
  } catch (err) {
    await p.stop('SIGKILL');
    throw err;
  }
}

/** `npm run worker`; resolves when it has published its first tick. */
export async function startWorker(env: Record<string, string | undefined>): Promise<ProjectProcess> {
  const p = spawnProject('workers/ephemeris-worker.ts', env);
  try {
    await p.waitForLog((l) => l.msg === 'first snapshots published', 30_000, "'first snapshots published'");
    return p;
  } catch (err) {
    await p.stop('SIGKILL');
    throw err;
  }
}

/** A REDIS_PREFIX of its own for a test file, so files can share one Redis. */
export function uniquePrefix(label = 't'): string {
  return `orrery-test:${label}:${randomBytes(4).toString('hex')}:`;
}

/**
 * Starts processes together; if any fails to start, stops those that did and rethrows, so a failed beforeAll leaves
 * no orphan behind.
 */
export async function startTogether<T extends ProjectProcess[]>(...starts: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(starts);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(
      settled.map((r) => (r.status === 'fulfilled' ? (r.value as ProjectProcess).stop('SIGKILL') : undefined)),
    );
    throw failed.reason;
  }
  return settled.map((r) => (r as PromiseFulfilledResult<ProjectProcess>).value) as T;
}
