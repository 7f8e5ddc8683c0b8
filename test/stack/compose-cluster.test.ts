import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { YAMLMap, parse } from 'yaml';
import { freePort, spawnProcess, waitUntil } from '../../scripts/processes.ts';
import { REPO_ROOT } from '../../scripts/stack.ts';
import { loadConfig, parseClusterNodes } from '../../src/config.ts';
import { redisCommand } from '../../scripts/resp.ts';

// docker-compose.cluster.yml without a Docker engine: what it overrides in docker-compose.yml, whether the worker and
// the API nodes end up with a valid cluster configuration pointing at the cluster's own nodes, and whether the Redis
// node command line is one redis-server accepts.

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition?: string }>;
  networks?: Record<string, { ipv4_address?: string }>;
  profiles?: string[];
}
interface Compose {
  services: Record<string, Service>;
  networks?: Record<string, { ipam?: { config?: { subnet?: string; ip_range?: string }[] } }>;
}

// Compose's `!override` tag: the map replaces the base file's instead of merging with it.
const overrideTag = { tag: '!override', collection: 'map', nodeClass: YAMLMap, resolve: (m: YAMLMap) => m } as const;
const read = (file: string): Compose =>
  parse(readFileSync(join(REPO_ROOT, file), 'utf8'), { merge: true, customTags: [overrideTag as never] }) as Compose;
const base = read('docker-compose.yml');
const cluster = read('docker-compose.cluster.yml');

const nodeServices = Object.entries(base.services).filter(([, s]) => s.image === 'orrery:local');
const clusterNodes = Object.entries(cluster.services).filter(([, s]) => s.command?.includes('--cluster-enabled'));
const addressOf = (s: Service): string => s.networks?.default?.ipv4_address ?? '';
const ipToInt = (ip: string): number => ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0) >>> 0;
const inCidr = (ip: string, cidr: string): boolean => {
  const [net, bits] = cidr.split('/') as [string, string];
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return (ipToInt(ip) & mask) === (ipToInt(net) & mask);
};

describe('docker-compose.cluster.yml', () => {
  it('has three Redis 7 masters with fixed addresses and cluster mode on, and turns the single Redis off', () => {
    expect(clusterNodes.map(([name]) => name).sort()).toEqual(['redis-1', 'redis-2', 'redis-3']);
    for (const [, s] of clusterNodes) {
      expect(s.image).toMatch(/^redis:7(\.|-|$)/);
      expect(s.command).toEqual(
        expect.arrayContaining(['--cluster-enabled', 'yes', '--save', '', '--appendonly', 'no', '--cluster-require-full-coverage', 'no']),
      );
    }
    expect(cluster.services.redis?.profiles).toEqual(['single-redis']);
    const [{ subnet, ip_range: range }] = cluster.networks!.default!.ipam!.config! as [{ subnet: string; ip_range: string }];
    for (const [name, s] of clusterNodes) {
      expect(inCidr(addressOf(s), subnet), `${name} in ${subnet}`).toBe(true);
      // Dynamic addresses come from ip_range only, so no other container can take a node's address first.
      expect(inCidr(addressOf(s), range), `${name} outside ${range}`).toBe(false);
    }
  });

  it('gives every Node service of docker-compose.yml a valid cluster configuration aimed at those nodes', () => {
    const addresses = clusterNodes.map(([, s]) => `${addressOf(s)}:6379`).sort();
    expect(nodeServices.map(([name]) => name).sort()).toEqual(['api1', 'api2', 'worker']);
    for (const [name, s] of nodeServices) {
      const override = cluster.services[name];
      expect(override, `${name} is not overridden`).toBeDefined();
      // Compose merges environment maps key by key.
      const config = loadConfig({ ...s.environment, ...override!.environment });
      expect(config.REDIS_URL, name).toBeUndefined();
      const seeds = parseClusterNodes(config.REDIS_CLUSTER_NODES!).map((n) => `${n.host}:${n.port}`);
      expect(seeds.sort(), name).toEqual(addresses);
      // `!override`: waits for the cluster to be formed, and no longer for the single Redis.
      expect(override!.depends_on, name).toEqual({ 'redis-cluster-init': { condition: 'service_completed_successfully' } });
    }
  });

  it('forms the cluster from exactly those nodes once they are healthy', () => {
    const init = cluster.services['redis-cluster-init']!;
    expect(Object.keys(init.depends_on ?? {}).sort()).toEqual(clusterNodes.map(([name]) => name).sort());
    for (const dep of Object.values(init.depends_on ?? {})) expect(dep.condition).toBe('service_healthy');
    const script = init.command!.join(' ');
    const create = /redis-cli --cluster create ((?:\S+:\d+ )+)/.exec(script);
    expect(create, script).not.toBeNull();
    expect(create![1]!.trim().split(' ').sort()).toEqual(clusterNodes.map(([, s]) => `${addressOf(s)}:6379`).sort());
    expect(script).toMatch(/--cluster-yes/);
    expect(script).toMatch(/cluster_state:ok/);
  });

  it('the node command line is one the installed redis-server 7 accepts, in cluster mode', async () => {
    const [, node] = clusterNodes[0]!;
    const [binary, ...args] = node.command!;
    expect(binary).toBe('redis-server');
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'orrery-compose-cluster-'));
    const proc = spawnProcess('redis', binary!, [...args, '--port', String(port), '--bind', '127.0.0.1', '--dir', dir]);
    try {
      await waitUntil('redis-server to answer', async () => (await redisCommand(`redis://127.0.0.1:${port}`, 'PING')) === 'PONG', {
        proc,
        timeoutMs: 10_000,
      });
      const info = String(await redisCommand(`redis://127.0.0.1:${port}`, 'INFO', 'cluster'));
      expect(info).toMatch(/cluster_enabled:1/);
      const coverage = (await redisCommand(`redis://127.0.0.1:${port}`, 'CONFIG', 'GET', 'cluster-require-full-coverage')) as string[];
      expect(coverage[1]).toBe('no');
    } finally {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
