import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../browser/harness.ts';

// Every curl command in README.md's ```sh blocks, run against a started server (`npm start`, embedded mode), so
// the front page's examples cannot rot: each must answer 2xx; a `curl -N` stream must deliver an `update` event.

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const commands = [...README.matchAll(/```sh\n([\s\S]*?)```/g)]
  .flatMap((m) => m[1]!.split('\n'))
  .map((line) => line.trim())
  .filter((line) => line.startsWith('curl '));

let app: App;

beforeAll(async () => {
  app = await startApp({ env: { TICK_MS: '1000', WORKER_LOCATIONS: 'london,paris' } });
}, 60_000);
afterAll(() => app?.stop());

describe("README's curl examples", () => {
  it('has some (the parser finds them)', () => {
    expect(commands.length).toBeGreaterThanOrEqual(8);
    expect(commands.some((c) => c.startsWith('curl -N'))).toBe(true);
  });

  it.each(commands)('%s', (command) => {
    const host = new URL(app.url).host;
    const stream = command.startsWith('curl -N');
    // Same command, aimed at this server; curl fails (exit 22) on an HTTP error, a stream is cut after 3 s.
    const line = command
      .replaceAll('localhost:8080', host)
      .replace(/^curl /, `curl -sS --fail-with-body --max-time ${stream ? 3 : 10} `);
    const res = spawnSync('bash', ['-c', line], { encoding: 'utf8', timeout: 20_000 });
    if (stream) {
      // 28: the --max-time cut, expected for a stream that stays open
      expect(res.status, res.stderr).toBe(28);
      expect(res.stdout).toMatch(/^event: update$/m);
      expect(res.stdout).toMatch(/^data: \{"location":/m);
    } else {
      expect(res.status, `${res.stderr}${res.stdout}`).toBe(0);
      expect(() => JSON.parse(res.stdout), res.stdout.slice(0, 200)).not.toThrow();
    }
  });
});
