import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILT_ENTRIES } from './build.ts';
import { Waiters } from './waiters.ts';

// Child processes of the stack, the tests and the benchmarks: spawned in their own process group (so Ctrl-C in a
// terminal reaches only the launcher, which then stops them in order), output kept as a tail for error messages,
// stopped by pid. The project's own processes (spawnProject) also have their pino JSON lines parsed.

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  hasExited(): boolean;
  /** The last lines it wrote to stdout/stderr, for error messages. */
  tail(): string;
  /** SIGTERM (or `signal`), wait up to `graceMs`, then SIGKILL its process group; resolves after exit. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Write each output line to the launcher's stdout as `[name] line`. */
  echo?: boolean;
  /** Called with each complete output line (and a last unterminated one when the stream ends). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
}

const TAIL_LINES = 60;
const live = new Set<ManagedProcess>();

// A launcher that dies (an uncaught error, a test runner tearing down) must not leave orphans behind.
process.once('exit', () => {
  for (const p of live) killGroup(p.pid, 'SIGKILL');
});

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

export function spawnProcess(name: string, command: string, args: readonly string[], options: SpawnOptions = {}): ManagedProcess {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) {
    // spawn failed (e.g. ENOENT); its 'error' event follows and must not go unhandled.
    child.once('error', () => {});
    throw new Error(`could not start ${name}: ${command} ${args.join(' ')}`);
  }
  const pid = child.pid;
  const lines: string[] = [];
  let exited = false;

  const collect = (stream: NodeJS.ReadableStream | null, which: 'stdout' | 'stderr'): void => {
    if (!stream) return;
    let partial = '';
    const take = (line: string): void => {
      lines.push(line);
      if (lines.length > TAIL_LINES) lines.shift();
      if (options.echo) process.stdout.write(`[${name}] ${line}\n`);
      options.onLine?.(line, which);
    };
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) take(line);
    });
    stream.on('end', () => {
      if (partial) take(partial);
      partial = '';
    });
  };
  collect(child.stdout, 'stdout');
  collect(child.stderr, 'stderr');

  const exitPromise = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      live.delete(proc);
      resolve(code ?? signal ?? 'unknown');
    });
    child.on('error', (err) => lines.push(`process error: ${err.message}`));
  });

  const proc: ManagedProcess = {
    name,
    pid,
    child,
    exited: exitPromise,
    hasExited: () => exited,
    tail: () => lines.join('\n'),
    async stop(signal = 'SIGTERM', graceMs = 5000) {
      if (exited) return;
      killGroup(pid, signal);
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
      try {
        await exitPromise;
      } finally {
        clearTimeout(timer);
      }
      // Whatever it left in its group (e.g. nginx workers after a SIGKILLed master) goes too.
      killGroup(pid, 'SIGKILL');
    },
  };
  live.add(proc);
  return proc;
}

/** A port that was free a moment ago (the OS picks it); loopback only. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!port) throw new Error('could not get a free port');
  return port;
}

/**
 * Polls `check` until it resolves true. Fails early, with the process's own last words, if `proc` exits.
 */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  { timeoutMs = 20_000, intervalMs = 100, proc }: { timeoutMs?: number; intervalMs?: number; proc?: ManagedProcess } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  for (;;) {
    if (proc?.hasExited()) {
      throw new Error(`${proc.name} exited before it was ready (${what}):\n${proc.tail()}`);
    }
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      const tail = proc ? `\n--- ${proc.name} output ---\n${proc.tail()}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${lastError})` : ''}${tail}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Whether process `pid` holds the listening TCP socket on `port` (Linux /proc). A readiness probe that
 * only asks the port could be answered by some other process that took a port we thought was free.
 * Where /proc is missing, it cannot tell and says yes.
 */
export function listensOn(pid: number, port: number): boolean {
  if (!existsSync('/proc/net/tcp')) return true;
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // f[1] local address "0100007F:1F90", f[3] state (0A = LISTEN), f[9] inode
      if (f.length > 9 && f[3] === '0A' && Number.parseInt(f[1]!.split(':')[1]!, 16) === port) inodes.add(f[9]!);
    }
  }
  if (inodes.size === 0) return false;
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m && inodes.has(m[1]!)) return true;
    }
  } catch {
    return false;
  }
  return false;
}

/** True when a process's last words say its port was taken (redis-server, nginx and Node phrase it differently). */
export const portWasTaken = (err: unknown): boolean => err instanceof Error && /address already in use|EADDRINUSE/i.test(err.message);

// ---- the project's own processes (src/server.ts, workers/ephemeris-worker.ts) for tests and benchmarks ----

export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));

/** Every setting src/config.ts reads: stripped from the inherited environment so a test states what it means. */
const CONFIG_KEYS = [
  'PORT', 'HOST', 'REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_PREFIX', 'TICK_MS', 'HISTORY_SECONDS', 'HEARTBEAT_MS', 'LOG_LEVEL',
  'SLOW_CLIENT_MS', 'WORKER_LOCATIONS', 'PUBLISH_SPREAD', 'FANOUT_WRITER',
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

/**
 * How a project process runs: `tsx` (`node --import tsx src/…ts`, what `npm start` does) or `dist` (the bundle of
 * `npm run build`, what production runs; build it first), with extra `nodeArgs` (V8 flags) before the entry.
 */
export interface ProjectRuntime {
  runtime?: 'tsx' | 'dist';
  nodeArgs?: readonly string[];
}

/** `node --import tsx <entry>` (or its dist/ bundle) from the repository root with `env` over the inherited environment minus CONFIG_KEYS. */
export function spawnProject(entry: string, env: Record<string, string | undefined>, run: ProjectRuntime = {}): ProjectProcess {
  const base: Record<string, string | undefined> = { ...process.env };
  for (const k of CONFIG_KEYS) delete base[k];
  const logs: LogLine[] = [];
  let text = '';
  const waiters = new Waiters();
  const argv = run.runtime === 'dist' ? [...(run.nodeArgs ?? []), builtEntry(entry)] : ['--import', 'tsx', ...(run.nodeArgs ?? []), entry];
  const managed = spawnProcess(entry, process.execPath, argv, {
    cwd: REPO_ROOT,
    env: { ...base, ...env },
    onLine(line, stream) {
      if (stream === 'stderr') {
        text += `${line}\n`;
        return;
      }
      if (!line) return;
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        text += `${line}\n`;
      }
      waiters.notify();
    },
  });
  const { child } = managed;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      waiters.notify();
      resolve({ code, signal });
    });
  });
  const hasExited = (): boolean => child.exitCode !== null || child.signalCode !== null;

  const proc: ProjectProcess = {
    pid: managed.pid,
    child,
    logs,
    text: () => text,
    waitForLog(predicate, timeoutMs = 20_000, what = 'log line') {
      return waiters.wait(
        () => {
          const hit = logs.find(predicate);
          if (hit) return { value: hit };
          if (hasExited()) return new Error(`${entry} exited (${child.exitCode ?? child.signalCode}) before ${what}:\n${tail(proc)}`);
          return undefined;
        },
        timeoutMs,
        () => new Error(`${entry}: no ${what} within ${timeoutMs} ms:\n${tail(proc)}`),
      );
    },
    exited,
    async stop(signal = 'SIGTERM', timeoutMs = 8000) {
      await managed.stop(signal, timeoutMs);
      return exited;
    },
  };
  return proc;
}

/** The command line behind an npm script such as "node --import tsx src/server.ts", run with this Node. */
export function npmScriptCommand(script: string): { command: string; args: string[] } {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  const line = pkg.scripts?.[script];
  if (!line) throw new Error(`package.json has no "${script}" script`);
  const [bin, ...args] = line.trim().split(/\s+/);
  // Running node directly (not through npm) keeps the pid we signal the pid that serves.
  if (bin !== 'node') throw new Error(`npm script "${script}" must start with "node", got: ${line}`);
  return { command: process.execPath, args };
}

function builtEntry(entry: string): string {
  const built = (BUILT_ENTRIES as Record<string, string>)[entry];
  if (!built) throw new Error(`${entry} has no bundle in dist/ (scripts/build.ts builds ${Object.keys(BUILT_ENTRIES).join(', ')})`);
  if (!existsSync(join(REPO_ROOT, built))) throw new Error(`${built} does not exist: run \`npm run build\` first`);
  return built;
}

function tail(p: ProjectProcess): string {
  return [...p.logs.slice(-10).map((l) => JSON.stringify(l)), p.text().slice(-2000)].join('\n');
}

export interface ApiNode extends ProjectProcess {
  url: string;
  port: number;
}

/** `npm start` (src/server.ts) on a free port; resolves when it logs that it listens. */
export async function startApiNode(env: Record<string, string | undefined>, run: ProjectRuntime = {}): Promise<ApiNode> {
  const p = spawnProject('src/server.ts', { PORT: '0', HOST: '127.0.0.1', ...env }, run);
  try {
    const line = await p.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('listening'), 30_000, "'listening'");
    return Object.assign(p, { url: line.url as string, port: line.port as number });
  } catch (err) {
    await p.stop('SIGKILL');
    throw err;
  }
}

/** `npm run worker`; resolves when it has published its first tick. */
export async function startWorker(env: Record<string, string | undefined>, run: ProjectRuntime = {}): Promise<ProjectProcess> {
  const p = spawnProject('workers/ephemeris-worker.ts', env, run);
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
