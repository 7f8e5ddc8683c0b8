import { describe, expect, it } from 'vitest';
import { httpGet } from '../../scripts/http-get.ts';
import { openSse } from '../../scripts/sse-client.ts';
import { composeLifecycle, dockerTestsProblem, healthOf } from './compose-run.ts';

// The cluster overlay for real: docker-compose.yml + docker-compose.cluster.yml (three Redis masters, sharded pub/sub,
// the cluster formed by redis-cluster-init). Skipped without an engine, as compose.test.ts.

const problem = await dockerTestsProblem();

describe.skipIf(problem !== undefined)('docker compose up --build with the Redis Cluster overlay', () => {
  const { project, clients } = composeLifecycle(['docker-compose.yml', 'docker-compose.cluster.yml']);

  it('forms the cluster once, and every service turns healthy on it', async () => {
    const init = await project.container('redis-cluster-init');
    expect(await project.docker('inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', init)).toBe('exited 0');
    const info = await project.compose('exec', '-T', 'redis-1', 'redis-cli', 'cluster', 'info');
    expect(info).toMatch(/cluster_state:ok/);
    expect(info).toMatch(/cluster_known_nodes:3/);
    const services = ['redis-1', 'redis-2', 'redis-3', 'worker', 'api1', 'api2', 'nginx'];
    expect(await healthOf(project, services)).toEqual(Object.fromEntries(services.map((s) => [s, 'healthy'])));
    // The overlay leaves the single Redis off.
    expect(await project.container('redis')).toBe('');
  });

  it('serves /planets and streams locations whose channels live on different shards', async () => {
    const mars = await httpGet(`${project.url}/planets/mars?lat=35.7&lon=139.7`);
    expect(mars.status).toBe(200);
    // london, tokyo and sydney hash to different slots; with three masters at least two shards are involved.
    const slots = await Promise.all(
      ['london', 'tokyo', 'sydney'].map((l) => project.compose('exec', '-T', 'redis-1', 'redis-cli', 'cluster', 'keyslot', `{${l}}`)),
    );
    expect(new Set(slots.map((s) => Math.floor(Number(s) / 5462))).size).toBeGreaterThan(1);
    const streams = ['london', 'tokyo', 'sydney'].map((l) => {
      const c = openSse(`${project.url}/stream/${l}`);
      clients.push(c);
      return c;
    });
    await Promise.all(streams.map((c, i) => c.waitFor(`updates of stream ${i}`, (ev) => ev.filter((e) => e.event === 'update').length >= 3, 60_000)));
    for (const c of streams) {
      const ids = c.events.filter((e) => e.event === 'update').map((e) => Number(e.id));
      expect(ids).toEqual([...ids].sort((x, y) => x - y));
    }
  });
});
