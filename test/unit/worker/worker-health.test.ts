import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryBroker } from '../../../src/broker/memory.ts';
import { createWorkerMetrics } from '../../../src/worker/metrics-server.ts';

// The worker's /healthz is what its container health check asks: healthy while ticks keep finishing, unhealthy once
// none has for three tick intervals plus the allowance, healthy again after the next tick.
describe('worker /healthz', () => {
  afterEach(() => vi.useRealTimers());

  it('turns 503 when ticks stop finishing and 200 again after the next one', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const metrics = createWorkerMetrics({ node: 't', broker: createMemoryBroker({ historyLimit: 1 }), loop: () => undefined, tickMs: 1000, graceMs: 2000 });
    const server = await metrics.listen(0, '127.0.0.1');
    const health = async () => {
      const res = await fetch(`http://127.0.0.1:${server.port}/healthz`);
      return [res.status, ((await res.json()) as { status: string }).status];
    };
    try {
      expect(await health()).toEqual([200, 'ok']); // the start counts as a tick
      vi.advanceTimersByTime(4900);
      expect(await health()).toEqual([200, 'ok']);
      vi.advanceTimersByTime(200);
      expect(await health()).toEqual([503, 'stalled']);
      metrics.tick(12);
      expect(await health()).toEqual([200, 'ok']);
    } finally {
      await server.close();
    }
  });
});
