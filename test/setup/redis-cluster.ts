import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { programPath } from '../../scripts/binaries.ts';
import { freePort, spawnProcess, waitUntil, type ManagedProcess } from '../../scripts/processes.ts';
import { INSTALL_HINT } from './redis.ts';
import { redisCommand, type Resp } from '../../scripts/resp.ts';

// A real Redis Cluster for the tests that need one (not the global setup: the rest of the suite does not pay for it).
// Three masters, no replicas, each a redis-server process with its own working dir and nodes.conf under one temp dir,
// joined by `redis-cli --cluster create`. A master can be killed and started again on the same port from the same
// nodes.conf, so it rejoins with its slots.

const HOST = '127.0.0.1';

export interface ClusterNode {
  host: string;
  port: number;
}

export interface RedisCluster {
  /** the masters, in creation order */
  readonly nodes: readonly ClusterNode[];
  /** REDIS_CLUSTER_NODES value: `127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3` */
  readonly seeds: string;
  /** One command on one node (RESP2 reply; errors come back as Error values). */
  command(port: number, args: readonly string[]): Promise<Resp>;
  /** The port of the master that owns `key`'s slot (CLUSTER KEYSLOT + CLUSTER SHARDS, asked of the cluster itself). */
  ownerOf(key: string): Promise<number>;
  /** SIGKILL the master on `port` (a crash); resolves once it has exited. */
  kill(port: number): Promise<void>;
  /** Starts the master on `port` again with its nodes.conf; resolves when every node reports cluster_state:ok. */
  restart(port: number): Promise<void>;
  /** Stops every node by pid, awaits each exit, removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

export interface RedisClusterOptions {
  masters?: number;
  /** replicas per master (default 0); with them a killed master's replica is promoted */
  replicas?: number;
  binary?: string;
  cli?: string;
  readyTimeoutMs?: number;
}

async function run(command: string, args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(err.code === 'ENOENT' ? new Error(`${command} not found. ${INSTALL_HINT}`) : err);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${output.slice(-2000)}`));
    });
  });
}

/** CLUSTER SHARDS (RESP2: flat key/value arrays) → master port per slot range. */
function masterRanges(reply: Resp): { from: number; to: number; port: number }[] {
  if (!Array.isArray(reply)) throw new Error(`unexpected CLUSTER SHARDS reply: ${String(reply)}`);
  const out: { from: number; to: number; port: number }[] = [];
  for (const shard of reply) {
    if (!Array.isArray(shard)) continue;
    const fields = new Map<string, Resp>();
    for (let i = 0; i + 1 < shard.length; i += 2) fields.set(String(shard[i]), shard[i + 1]!);
    const slots = fields.get('slots');
    const nodes = fields.get('nodes');
    if (!Array.isArray(slots) || !Array.isArray(nodes)) continue;
    for (const node of nodes) {
      if (!Array.isArray(node)) continue;
      const n = new Map<string, Resp>();
      for (let i = 0; i + 1 < node.length; i += 2) n.set(String(node[i]), node[i + 1]!);
      if (n.get('role') !== 'master' || n.get('health') === 'fail') continue;
      for (let i = 0; i + 1 < slots.length; i += 2) {
        out.push({ from: Number(slots[i]), to: Number(slots[i + 1]), port: Number(n.get('port')) });
      }
    }
  }
  return out;
}

export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const replicas = options.replicas ?? 0;
  const binary = options.binary ?? programPath('redis-server');
  const cli = options.cli ?? programPath('redis-cli');
  const readyTimeoutMs = options.readyTimeoutMs ?? 20_000;
  const dir = mkdtempSync(join(tmpdir(), 'orrery-cluster-'));
  const ports: number[] = [];
  while (ports.length < masters * (1 + replicas)) {
    const p = await freePort();
    // The cluster bus listens on port + 10000: both must be usable.
    if (p + 10_000 <= 65_535 && !ports.includes(p)) ports.push(p);
  }
  const procs = new Map<number, ManagedProcess>();
  let stopping: Promise<void> | undefined;

  const command = (port: number, args: readonly string[]): Promise<Resp> => redisCommand(`redis://${HOST}:${port}`, ...args);

  const startNode = async (port: number): Promise<void> => {
    const nodeDir = join(dir, String(port));
    mkdirSync(nodeDir, { recursive: true });
    const proc = spawnProcess(`redis-${port}`, binary, [
      '--port', String(port),
      '--bind', HOST,
      '--dir', nodeDir,
      '--cluster-enabled', 'yes',
      '--cluster-config-file', join(dir, `nodes-${port}.conf`),
      '--cluster-node-timeout', '2000',
      // A shard that is down must not stop the others: their locations keep streaming (see README, Scaling).
      '--cluster-require-full-coverage', 'no',
      '--save', '',
      '--appendonly', 'no',
      '--loglevel', 'warning',
    ]);
    procs.set(port, proc);
    proc.child.once('error', () => {});
    await waitUntil(`redis-server on ${port} to answer PING`, async () => (await command(port, ['PING'])) === 'PONG', {
      proc,
      timeoutMs: readyTimeoutMs,
      intervalMs: 50,
    });
  };

  const clusterOk = (): Promise<void> =>
    waitUntil(
      'cluster_state:ok on every node',
      async () => {
        for (const port of ports) {
          const info = await command(port, ['CLUSTER', 'INFO']);
          if (typeof info !== 'string' || !info.includes('cluster_state:ok')) return false;
        }
        // Every node must also see all masters as serving (a restarted one may still be flagged fail elsewhere).
        for (const port of ports) {
          const nodes = await command(port, ['CLUSTER', 'NODES']);
          if (typeof nodes !== 'string' || /\bfail\??\b/.test(nodes)) return false;
        }
        // A replica that has not finished its first sync could never be promoted.
        for (const port of ports.slice(masters)) {
          const info = await command(port, ['INFO', 'replication']);
          if (typeof info !== 'string' || !info.includes('master_link_status:up')) return false;
        }
        return true;
      },
      { timeoutMs: readyTimeoutMs, intervalMs: 100 },
    );

  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await Promise.all([...procs.values()].map((p) => p.stop('SIGTERM', 5000)));
      rmSync(dir, { recursive: true, force: true });
    })());

  try {
    await Promise.all(ports.map((p) => startNode(p)));
    await run(cli, ['--cluster', 'create', ...ports.map((p) => `${HOST}:${p}`), '--cluster-replicas', String(replicas), '--cluster-yes'], readyTimeoutMs);
    await clusterOk();
  } catch (err) {
    await stop();
    throw err;
  }

  // `--cluster create` makes the first `masters` nodes the masters.
  const masterPorts = ports.slice(0, masters);
  return {
    nodes: masterPorts.map((port) => ({ host: HOST, port })),
    seeds: masterPorts.map((p) => `${HOST}:${p}`).join(','),
    command,
    async ownerOf(key) {
      // Asked of the first node that answers (one may have been killed).
      const live = procs.get(ports[0]!)?.hasExited() === false ? ports[0]! : ports.find((p) => procs.get(p)?.hasExited() === false)!;
      const slot = await command(live, ['CLUSTER', 'KEYSLOT', key]);
      if (typeof slot !== 'number') throw new Error(`CLUSTER KEYSLOT ${key}: ${String(slot)}`);
      const range = masterRanges(await command(live, ['CLUSTER', 'SHARDS'])).find((r) => r.from <= slot && slot <= r.to);
      if (!range) throw new Error(`no master owns slot ${slot} of ${key}`);
      return range.port;
    },
    async kill(port) {
      const proc = procs.get(port);
      if (!proc) throw new Error(`no cluster node on ${port}`);
      await proc.stop('SIGKILL');
    },
    async restart(port) {
      const proc = procs.get(port);
      if (!proc) throw new Error(`no cluster node on ${port}`);
      if (!proc.hasExited()) throw new Error(`cluster node on ${port} is still running`);
      await startNode(port);
      await clusterOk();
    },
    stop,
  };
}
