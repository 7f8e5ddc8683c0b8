import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll } from 'vitest';
import { REPO_ROOT } from '../../scripts/processes.ts';
import type { SseClient } from '../../scripts/sse-client.ts';

// Drives `docker compose` on the repo's own files for the Docker tests: one project per run, published on a loopback
// port the engine picks, torn down (containers, networks, volumes) by down().

const run = promisify(execFile);

export interface ComposeProject {
  readonly name: string;
  /** http://127.0.0.1:<port> of nginx's published port */
  url: string;
  compose(...args: string[]): Promise<string>;
  /** `docker <args>` (inspect, kill …) */
  docker(...args: string[]): Promise<string>;
  /** The container id of a service. */
  container(service: string): Promise<string>;
  down(): Promise<void>;
}

export function composeProject(files: readonly string[], env: Record<string, string> = {}): ComposeProject {
  const name = `orrery-test-${process.pid}-${files.length}`;
  const fileArgs = files.flatMap((f) => ['-f', f]);
  const opts = {
    cwd: REPO_ROOT,
    // Publish on loopback only, on a port the engine picks; streams carry X-Upstream so a test sees which node served.
    env: { ...process.env, ORRERY_PUBLISH: '127.0.0.1:0', ORRERY_EXPOSE_UPSTREAM: 'on', ...env },
    maxBuffer: 64 * 1024 * 1024,
  };
  const docker = async (...args: string[]): Promise<string> => {
    try {
      return (await run('docker', args, opts)).stdout.trim();
    } catch (err) {
      const e = err as Error & { stderr?: string; stdout?: string };
      throw new Error(`docker ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
    }
  };
  const compose = (...args: string[]) => docker('compose', '-p', name, ...fileArgs, ...args);
  return {
    name,
    url: '',
    compose,
    docker,
    container: (service) => compose('ps', '-a', '-q', service),
    async down() {
      await compose('down', '--volumes', '--remove-orphans', '--timeout', '5');
    },
  };
}

/** Brings the project up with a build and waits for every health check; fills `url`. */
export async function up(project: ComposeProject): Promise<void> {
  try {
    await project.compose('up', '--build', '--detach', '--wait', '--wait-timeout', '600');
  } catch (err) {
    // What the containers said is the useful part of a failed start.
    const logs = await project.compose('logs', '--no-color', '--tail', '40').catch(() => '');
    throw new Error(`${(err as Error).message}\n--- logs ---\n${logs}`);
  }
  const published = await project.compose('port', 'nginx', '80'); // 127.0.0.1:49153
  project.url = `http://${published.split('\n')[0]}`;
}


/** Health of each service's container, as `docker inspect` reports it (none: the image has no check). */
export async function healthOf(project: ComposeProject, services: readonly string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const s of services) {
    const id = await project.container(s);
    out[s] = await project.docker('inspect', '--format', '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}', id);
  }
  return out;
}

/**
 * Why the Docker tests cannot run on this machine, or undefined when they can. In CI that is a failure (they must not
 * silently skip there); elsewhere the reason is printed and the caller skips.
 */
export async function dockerTestsProblem(): Promise<string | undefined> {
  const problem = await engineProblem();
  if (problem && process.env.CI) throw new Error(`the Docker tests need an engine in CI: ${problem}`);
  if (problem) console.warn(`Docker tests skipped: ${problem}`);
  return problem;
}

/**
 * A project of `files` for the enclosing describe: brought up before its tests (after tearing down what a crashed
 * earlier run of the same name left), and torn down after them, the streams its tests opened (`clients`) closed first.
 */
export function composeLifecycle(files: readonly string[]): { project: ComposeProject; clients: SseClient[] } {
  const project = composeProject(files);
  const clients: SseClient[] = [];
  beforeAll(async () => {
    await project.down().catch(() => {});
    await up(project);
  }, 900_000);
  afterAll(async () => {
    for (const c of clients.splice(0)) c.close();
    await project.down();
  }, 120_000);
  return { project, clients };
}

/** Engine reachable? The reason when not. */
async function engineProblem(): Promise<string | undefined> {
  try {
    await run('docker', ['compose', 'version'], { timeout: 10_000 });
    await run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 10_000 });
    for (const image of ['node:24-bookworm-slim', 'redis:7-alpine', 'nginx:1.27-alpine']) {
      await run('docker', ['image', 'inspect', image], { timeout: 10_000 }).catch(() => {
        throw new Error(`image ${image} is missing (run: sudo bash scripts/docker-offline.sh)`);
      });
    }
    return undefined;
  } catch (err) {
    return (err as Error).message.split('\n')[0];
  }
}
