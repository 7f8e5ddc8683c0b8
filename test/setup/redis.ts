import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { createConnection } from 'node:net';
import { freePort } from '../../scripts/processes.ts';

// Real Redis servers for tests: a redis-server process on a free loopback port (also used for extra servers, e.g. a
// Redis that a test stops and restarts), and the Docker probe that decides whether Testcontainers may be used.

export interface RedisServer {
  url: string;
  port: number;
  pid: number;
  /** SIGTERM by pid, wait for the exit. */
  stop(): Promise<void>;
}

export const INSTALL_HINT =
  'Integration tests need a Redis: set REDIS_URL, or install redis-server (Debian/Ubuntu: apt-get install redis-server), ' +
  'or run a Docker engine for Testcontainers.';

/** Resolves once `PING` answers `+PONG` on host:port, or rejects after timeoutMs. */
export async function waitForRedis(port: number, timeoutMs = 5000, host = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ port, host });
      const done = (v: boolean): void => {
        socket.destroy();
        resolve(v);
      };
      socket.setTimeout(500, () => done(false));
      socket.on('error', () => done(false));
      socket.on('connect', () => socket.write('PING\r\n'));
      socket.on('data', (d) => done(d.toString().startsWith('+PONG')));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis on ${host}:${port} did not answer PING within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function waitExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

/**
 * Starts `redis-server` on a free loopback port (or on `port`, e.g. to bring a stopped server back on the same one),
 * without persistence. Rejects with INSTALL_HINT when the binary is missing.
 */
export async function startRedisServer(options: { port?: number; binary?: string } = {}): Promise<RedisServer> {
  const binary = options.binary ?? 'redis-server';
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = options.port ?? (await freePort());
    const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (err: NodeJS.ErrnoException) =>
        reject(err.code === 'ENOENT' ? new Error(`${binary} not found. ${INSTALL_HINT}`) : err),
      );
      child.once('exit', (code) => reject(new Error(`redis-server exited (${code}) on port ${port}: ${output.slice(-500)}`)));
    });
    failed.catch(() => {});
    try {
      await Promise.race([waitForRedis(port), failed]);
    } catch (err) {
      lastError = err;
      child.kill('SIGKILL');
      if (String(err).includes('not found')) throw err;
      continue;
    }
    return {
      url: `redis://127.0.0.1:${port}`,
      port,
      pid: child.pid!,
      stop: async () => {
        child.kill('SIGTERM');
        await waitExit(child, 5000);
      },
    };
  }
  throw lastError;
}

/** Whether a Docker engine answers /_ping within timeoutMs; false at once when there is no socket or DOCKER_HOST. */
export async function dockerAnswers(timeoutMs = 1000): Promise<boolean> {
  const host = process.env.DOCKER_HOST;
  let target: { socketPath: string } | { host: string; port: number };
  if (host) {
    if (host.startsWith('unix://')) target = { socketPath: host.slice('unix://'.length) };
    else if (host.startsWith('tcp://')) {
      const u = new URL(host.replace(/^tcp:/, 'http:'));
      target = { host: u.hostname, port: Number(u.port || 2375) };
    } else return false;
  } else target = { socketPath: '/var/run/docker.sock' };
  if ('socketPath' in target && !existsSync(target.socketPath)) return false;
  return new Promise((resolve) => {
    const req = request({ ...target, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}
