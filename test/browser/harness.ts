import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { programPath } from '../../scripts/binaries.ts';

// The real app as a child process (embedded mode: API + in-process worker on the memory broker) and
// Debian's Chromium, for the browser tests. No mocks: the page talks to the same server `npm start` runs.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface App {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** SIGTERM (graceful) or SIGKILL (a crash); resolves once the process has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** A port the OS says is free on loopback right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts `node --import tsx src/server.ts` on `port` (a free one by default) and resolves once it
 * answers /healthz and a stream has delivered its first snapshot, so a page never waits for the
 * worker's first tick.
 */
export async function startApp(options: { port?: number; env?: Record<string, string>; warmLocation?: string } = {}): Promise<App> {
  const port = options.port ?? (await freePort());
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...options.env };
  delete env.REDIS_URL;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;

  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  try {
    await waitFor(async () => (await fetch(`${url}/healthz`)).ok, 20_000, () => child.exitCode !== null, () => output);
    await firstSnapshot(url, options.warmLocation ?? 'london', 30_000);
  } catch (err) {
    await stop('SIGKILL');
    throw err;
  }
  return { url, port, pid: child.pid ?? -1, stop };
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, dead: () => boolean, output: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (dead()) throw new Error(`the app exited while starting:\n${output()}`);
    try {
      if (await check()) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the app did not answer within ${timeoutMs} ms:\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Reads /stream/<id> until the first `update` event, then hangs up. */
async function firstSnapshot(url: string, locationId: string, timeoutMs: number): Promise<void> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const res = await fetch(`${url}/stream/${locationId}`, { signal: controller.signal, headers: { accept: 'text/event-stream' } });
    if (!res.ok || !res.body) throw new Error(`/stream/${locationId} answered ${res.status}`);
    const decoder = new TextDecoder();
    let text = '';
    for await (const chunk of res.body) {
      text += decoder.decode(chunk as Uint8Array, { stream: true });
      if (/^event: update$/m.test(text) && /^data: .+\n/m.test(text)) return;
    }
    throw new Error(`/stream/${locationId} ended before its first update`);
  } catch (err) {
    if (controller.signal.aborted) throw new Error(`no snapshot on /stream/${locationId} within ${timeoutMs} ms`);
    throw err;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

/**
 * Whether a console error is Chromium reporting that the machine's network changed under it (an interface added or
 * removed, as Docker does for every container it starts or stops): Chromium then fails the requests in flight with
 * net::ERR_NETWORK_CHANGED. That says nothing about the page, which retries like any client; what a test checks is
 * that the page still gets where it should.
 */
export const isHostNetworkChange = (consoleText: string): boolean => consoleText.includes('net::ERR_NETWORK_CHANGED');

/** The system's Chromium (PATH or CHROMIUM_PATH), headless; never a downloaded browser. */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: programPath('chromium'),
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Great-circle distance (haversine, 6371 km sphere): the test's own, independent of src/sky. */
export function haversineKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const a = Math.sin(((lat2 - lat1) * rad) / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(((lon2 - lon1) * rad) / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(a)));
}
