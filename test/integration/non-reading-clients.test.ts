import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApiNode, type ApiNode } from '../../scripts/processes.ts';
import { openStream, type SseStream } from '../../scripts/sse-client.ts';

// Clients that never read, with small receive buffers (issue 14, point 3): the kernel of the server buffers what
// they do not read, so Node's writes never fail and its own stall timer never starts. The kernel-side check must
// close each within SLOW_CLIENT_MS plus one round of looks (and the moment its receive window filled), while
// clients that do read are left alone. The server's total Send-Q and RSS are sampled the whole time.

const STUCK = 200;
const READERS = 10;
const SLOW_CLIENT_MS = 3000;
let node: ApiNode;
let stuck: ChildProcess | undefined;
const readers: SseStream[] = [];

beforeAll(async () => {
  // The embedded worker publishes london five times a second: ≈ 15 kB/s of snapshots per stream.
  node = await startApiNode({ TICK_MS: '200', WORKER_LOCATIONS: 'london', HISTORY_SECONDS: '20', SLOW_CLIENT_MS: String(SLOW_CLIENT_MS), HEARTBEAT_MS: '60000', LOG_LEVEL: 'info' });
}, 60_000);
afterAll(async () => {
  for (const r of readers) r.close();
  stuck?.kill('SIGKILL');
  await node?.stop('SIGKILL');
});

/** Server-side sockets of the node's port: how many, and their Send-Q in bytes. */
function serverSockets(): { count: number; sendQ: number } {
  const out = execFileSync('ss', ['-tnH', 'state', 'established', `( sport = :${node.port} )`], { encoding: 'utf8' });
  let count = 0;
  let sendQ = 0;
  for (const line of out.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 4) continue;
    count++;
    sendQ += Number(cols[1]);
  }
  return { count, sendQ };
}
const rssOf = (pid: number): number => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024;

const PYTHON = `
import socket, sys
socks = []
for i in range(int(sys.argv[2])):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(('127.0.0.1', int(sys.argv[1])))
    s.sendall(b'GET /stream/london?lastEventId=0 HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')
    socks.append(s)
print('ready', flush=True)
sys.stdin.read()
`;

it(`${STUCK} clients that never read are closed within SLOW_CLIENT_MS plus a round; readers are not; Send-Q and RSS bounded`, async () => {
  readers.push(...(await Promise.all(Array.from({ length: READERS }, () => openStream(`${node.url}/stream/london`)))));
  const child = spawn('python3', ['-c', PYTHON, String(node.port), String(STUCK)], { stdio: ['pipe', 'pipe', 'inherit'] });
  stuck = child;
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`python exited ${code}`)));
  });
  const start = Date.now();
  expect(serverSockets().count).toBeGreaterThanOrEqual(STUCK);
  // A stall is seen up to a round late and closed up to a round after SLOW_CLIENT_MS (a round is an eighth of it
  // here); the receive windows fill within a second or so.
  const bound = SLOW_CLIENT_MS + 2 * (SLOW_CLIENT_MS / 8) + 1500;
  let maxSendQ = 0;
  let maxRss = 0;
  let left = serverSockets().count;
  while (Date.now() - start < bound + 3000) {
    const s = serverSockets();
    left = s.count;
    maxSendQ = Math.max(maxSendQ, s.sendQ);
    maxRss = Math.max(maxRss, rssOf(node.pid));
    if (left <= READERS) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const took = Date.now() - start;
  console.log(`non-reading clients: ${STUCK - (left - READERS)} of ${STUCK} closed after ${took} ms (bound ${bound} ms); max total Send-Q ${(maxSendQ / 1024).toFixed(0)} KiB (${(maxSendQ / STUCK / 1024).toFixed(1)} KiB per client), max RSS ${(maxRss / 1048576).toFixed(1)} MiB`);
  expect(left, 'server-side sockets left').toBe(READERS);
  expect(took).toBeLessThan(bound);
  // Readers stay, and keep receiving.
  const before = readers.map((r) => r.updates().length);
  await Promise.all(readers.map((r, i) => r.waitFor(() => r.updates().length > before[i]! + 2, 3000, `reader ${i} updates`)));
}, 60_000);
