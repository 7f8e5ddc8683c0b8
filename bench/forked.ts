import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// What the benchmarks that fork helper processes share (bench:fanout, bench:spots): everything started is stopped by
// pid in reverse order, also on Ctrl-C / SIGTERM; a forked helper (a load client, the nchan publisher) answers by IPC
// messages and is stopped by its process group.

type Log = (msg: string) => void;

/** Stop functions, run last-first by `cleanupAll()`; SIGINT/SIGTERM run them and exit 130. */
export function createCleanups(log: Log): { cleanups: (() => Promise<void>)[]; cleanupAll(): Promise<void> } {
  const cleanups: (() => Promise<void>)[] = [];
  async function cleanupAll(): Promise<void> {
    while (cleanups.length > 0) {
      try {
        await cleanups.pop()!();
      } catch (err) {
        log(`cleanup: ${(err as Error).message}`);
      }
    }
  }
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (interrupted) return;
      interrupted = true;
      log(`${signal}: stopping everything started here`);
      void cleanupAll().then(() => process.exit(130));
    });
  }
  return { cleanups, cleanupAll };
}

export interface Forked {
  child: ChildProcess;
  messages: { type: string; [k: string]: unknown }[];
  next(type: string, timeoutMs: number): Promise<{ type: string; [k: string]: unknown }>;
  stop(): Promise<void>;
}

/** Forks `file` (relative to bench/) under tsx in its own process group; its stop goes into `cleanups`. */
export function forkHelper(file: string, name: string, argv: string[], cleanups: (() => Promise<void>)[]): Forked {
  const child = fork(fileURLToPath(new URL(file, import.meta.url)), argv, {
    execArgv: ['--import', 'tsx'],
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const messages: Forked['messages'] = [];
  const waiting: ((m: Forked['messages'][number]) => void)[] = [];
  child.on('message', (m: Forked['messages'][number]) => {
    messages.push(m);
    for (const w of [...waiting]) w(m);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const f: Forked = {
    child,
    messages,
    next(type, timeoutMs) {
      return new Promise((resolve, reject) => {
        const seen = messages.findIndex((m) => m.type === type);
        if (seen >= 0) {
          resolve(messages.splice(seen, 1)[0]!);
          return;
        }
        const timer = setTimeout(() => done(new Error(`${name}: no '${type}' within ${timeoutMs} ms`)), timeoutMs);
        const onExit = (): void => done(new Error(`${name} exited before '${type}'`));
        const w = (m: Forked['messages'][number]): void => {
          if (m.type !== type) return;
          messages.splice(messages.indexOf(m), 1);
          done(undefined, m);
        };
        const done = (err?: Error, m?: Forked['messages'][number]): void => {
          clearTimeout(timer);
          waiting.splice(waiting.indexOf(w), 1);
          child.off('exit', onExit);
          if (err) reject(err);
          else resolve(m!);
        };
        waiting.push(w);
        child.once('exit', onExit);
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.send({ type: 'stop' });
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      }, 5000);
      await exited;
      clearTimeout(timer);
    },
  };
  cleanups.push(() => f.stop());
  return f;
}
