import { expect, it } from 'vitest';
import { freePort, npmScriptCommand, REPO_ROOT, spawnProcess } from '../../scripts/processes.ts';

// `npm run stack` (issue 14, point 8): an API node killed like a crash leaves the stack running; the node is
// started again on its port, and nginx serves throughout.

it('an API node that dies is logged and restarted; the stack keeps serving', async () => {
  const [port, a1, a2, redis] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  let out = '';
  const cmd = npmScriptCommand('stack');
  const stack = spawnProcess('stack', cmd.command, [...cmd.args, '--port', String(port), '--api-ports', `${a1},${a2}`, '--redis-port', String(redis), '--quiet'], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', WORKER_LOCATIONS: 'london' },
    onLine: (line) => (out += `${line}\n`),
  });
  const waitFor = async (re: RegExp, ms: number): Promise<RegExpExecArray> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = re.exec(out);
      if (m) return m;
      if (stack.hasExited()) throw new Error(`the stack exited:\n${out}`);
      if (Date.now() > deadline) throw new Error(`no ${re} within ${ms} ms:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  try {
    const up = await waitFor(/api1\s+pid (\d+)/, 90_000);
    process.kill(Number(up[1]), 'SIGKILL');
    await waitFor(/api1 exited unexpectedly/, 10_000);
    // nginx moves on to the other node meanwhile.
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const restarted = await waitFor(/api1 restarted \(pid (\d+)\)/, 30_000);
    expect(Number(restarted[1])).not.toBe(Number(up[1]));
    expect(stack.hasExited()).toBe(false);
    expect((await fetch(`http://127.0.0.1:${a1}/healthz`)).status).toBe(200);
  } finally {
    await stack.stop('SIGTERM', 15_000);
  }
}, 150_000);
