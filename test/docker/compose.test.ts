import { describe, expect, it } from 'vitest';
import { httpGet } from '../../scripts/http-get.ts';
import { openSse, servedBy, type SseClient, type SseEvent } from '../../scripts/sse-client.ts';
import { composeLifecycle, dockerTestsProblem, healthOf, type ComposeProject } from './compose-run.ts';

// `docker compose up --build` of the repo's own docker-compose.yml (one Redis, the worker, two API nodes, nginx), and
// what the process stack tests hold, now through containers. Needs a Docker engine and the images the files name:
// `sudo bash scripts/docker-offline.sh` prepares both offline. In CI a missing engine fails the run; elsewhere the
// file is skipped with the reason printed.

const problem = await dockerTestsProblem();

const SERVICES = ['redis', 'worker', 'api1', 'api2', 'nginx'] as const;
/** TICK_MS of docker-compose.yml: snapshot ids of one location run this far apart. */
const TICK_MS = 1000;

let project: ComposeProject;
let clients: SseClient[];
const client = (path: string): SseClient => {
  const c = openSse(`${project.url}${path}`);
  clients.push(c);
  return c;
};
const ids = (events: readonly SseEvent[]): number[] => events.filter((e) => e.event === 'update').map((e) => Number(e.id));

/** The snapshot ids the worker published for a location between two ids, read from its Redis history stream. */
async function publishedIds(location: string, from: number, to: number): Promise<number[]> {
  const out = await project.compose('exec', '-T', 'redis', 'redis-cli', 'XRANGE', `orrery:history:${location}`, `${from}-0`, `${to}-0`);
  return out
    .split('\n')
    .filter((l) => /^\d+-\d+$/.test(l.trim()))
    .map((l) => Number(l.trim().split('-')[0]));
}

/** The compose service whose container has the address nginx reports in X-Upstream (ip:port). */
async function serviceAt(upstream: string): Promise<string> {
  const ip = upstream.split(':')[0];
  for (const s of ['api1', 'api2']) {
    const id = await project.container(s);
    const addr = await project.docker('inspect', '--format', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', id);
    if (addr === ip) return s;
  }
  throw new Error(`no API container has address ${upstream}`);
}

async function waitHealthy(services: readonly string[], timeoutMs: number): Promise<void> {
  await expect.poll(async () => Object.values(await healthOf(project, services)).every((h) => h === 'healthy'), { timeout: timeoutMs, interval: 1000 }).toBe(true);
}

describe.skipIf(problem !== undefined)('docker compose up --build (one Redis)', () => {
  ({ project, clients } = composeLifecycle(['docker-compose.yml']));

  it('serves the page and /planets through nginx, keeps /metrics inside, and every service turns healthy', async () => {
    const page = await httpGet(`${project.url}/`);
    expect(page.status).toBe(200);
    expect(String(page.headers['content-type'])).toMatch(/^text\/html/);
    const mars = await httpGet(`${project.url}/planets/mars?lat=51.5&lon=-0.1`);
    expect(mars.status).toBe(200);
    expect(JSON.parse(mars.body)).toMatchObject({ name: 'mars' });
    const metrics = await httpGet(`${project.url}/metrics`);
    expect(metrics.status).toBe(404);
    expect(metrics.body).not.toContain('# TYPE');
    // `up --wait` returned once they were; the worker's check is its own /healthz (ticks finishing), not a no-op.
    expect(await healthOf(project, SERVICES)).toEqual(Object.fromEntries(SERVICES.map((s) => [s, 'healthy'])));
  });

  it('streams /stream/london through nginx as it happens, one event at a time', async () => {
    const c = client('/stream/london');
    await c.waitFor('three updates', (ev) => ids(ev).length >= 3, 30_000);
    const updates = c.events.filter((e) => e.event === 'update');
    expect(c.connections[0]!.headers['content-type']).toMatch(/^text\/event-stream/);
    // A buffering proxy hands several ticks over in one chunk; unbuffered, each arrives on its own.
    const arrivals = updates.map((e) => e.receivedAt);
    expect(new Set(arrivals).size).toBe(arrivals.length);
    c.close();
  });

  it('a killed API container costs its streaming clients no tick: they resume on the other node with Last-Event-ID', async () => {
    const a = client('/stream/london');
    const b = client('/stream/london');
    await Promise.all([a, b].map((c) => c.waitFor('first events', (ev) => ids(ev).length >= 2, 30_000)));
    const victim = await serviceAt(servedBy(a.connections[0]!));
    const killedAt = Date.now();
    await project.compose('kill', victim);
    await a.waitFor(
      'events after resuming',
      (ev) => {
        const resumed = ev.filter((e) => e.connection >= 1 && e.event === 'update');
        return resumed.length >= 3 && resumed.some((e) => Number(e.id) > killedAt + 2 * TICK_MS);
      },
      60_000,
    );
    const resumed = a.connections.at(-1)!;
    expect(resumed.status).toBe(200);
    expect(resumed.lastEventId).toBeDefined();
    expect(await serviceAt(servedBy(resumed))).not.toBe(victim);
    const all = ids(a.events);
    expect(all, `client ids ${all.join(', ')}`).toEqual(await publishedIds('london', all[0]!, all.at(-1)!));
    a.close();
    b.close();
    await project.compose('start', victim);
    await waitHealthy([victim], 120_000);
  });

  it('a restarted worker container publishes again and turns healthy', async () => {
    await project.compose('restart', 'worker');
    const restartedAt = Date.now();
    const c = client('/stream/paris');
    await c.waitFor('updates published after the restart', (ev) => ids(ev).some((id) => id > restartedAt + TICK_MS), 120_000);
    c.close();
    await waitHealthy(['worker'], 120_000);
  });

  it('docker stop drains an API node within its grace period: streams get event: reconnect, exit code 0', async () => {
    const c = client('/stream/tokyo');
    await c.waitFor('first events', (ev) => ids(ev).length >= 1, 30_000);
    const node = await serviceAt(servedBy(c.connections[0]!));
    await project.compose('stop', node); // SIGTERM, then SIGKILL after stop_grace_period
    await c.waitFor('the reconnect event', (ev) => ev.some((e) => e.event === 'reconnect'), 30_000);
    const state = await project.docker('inspect', '--format', '{{.State.ExitCode}} {{.State.OOMKilled}}', await project.container(node));
    expect(state).toBe('0 false'); // 137 would mean the grace period ran out and Docker killed it
    c.close();
    await project.compose('start', node);
    await waitHealthy([node], 120_000);
  });
});
