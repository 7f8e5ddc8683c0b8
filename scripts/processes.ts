import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { once } from 'node:events';

// Child processes of the stack: spawned in their own process group (so Ctrl-C in a terminal reaches only
// the launcher, which then stops them in order), output kept as a tail for error messages, stopped by pid.

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

  const collect = (stream: NodeJS.ReadableStream | null): void => {
    if (!stream) return;
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        if (lines.length > TAIL_LINES) lines.shift();
        if (options.echo) process.stdout.write(`[${name}] ${line}\n`);
      }
    });
  };
  collect(child.stdout);
  collect(child.stderr);

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
