import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { freePort, listensOn, spawnProcess, waitUntil, type ManagedProcess } from '../../scripts/processes.ts';
import { programPath } from '../../scripts/binaries.ts';
import { respCommand } from '../../scripts/resp.ts';

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

/**
 * Starts `redis-server` on a free loopback port (or on `port`, e.g. to bring a stopped server back on the same one),
 * without persistence. Rejects with INSTALL_HINT when the binary is missing.
 */
export async function startRedisServer(options: { port?: number; binary?: string } = {}): Promise<RedisServer> {
  const binary = options.binary ?? programPath('redis-server');
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = options.port ?? (await freePort());
    let proc: ManagedProcess;
    try {
      proc = spawnProcess('redis-server', binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
    } catch {
      throw new Error(`${binary} not found. ${INSTALL_HINT}`);
    }
    try {
      // listensOn: a PONG from some other process that took the port would not be ours.
      await waitUntil(`redis-server to answer PING on port ${port}`, async () => listensOn(proc.pid, port) && (await respCommand(port, '127.0.0.1', ['PING'], 500)) === 'PONG', {
        timeoutMs: 5000,
        intervalMs: 50,
        proc,
      });
    } catch (err) {
      // Most likely the port was taken between freePort() and the bind: try another one.
      lastError = err;
      await proc.stop('SIGKILL');
      continue;
    }
    return {
      url: `redis://127.0.0.1:${port}`,
      port,
      pid: proc.pid,
      stop: () => proc.stop('SIGTERM', 5000),
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
