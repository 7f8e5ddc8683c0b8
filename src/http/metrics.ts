import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Metrics } from '../metrics.ts';

// GET /metrics: Prometheus text format, per node (nginx blocks it: scrape each node directly).
// POST /debug/gc: only in a process started with --expose-gc (tests measuring heap after churn); it forces a full
// collection and answers the heap in use. Absent otherwise, so no production node can be made to stop the world.

export function mountMetrics(app: OpenAPIHono, metrics: Metrics): void {
  app.get('/metrics', async (c) => {
    const body = await metrics.registry.metrics();
    return c.body(body, 200, { 'Content-Type': metrics.registry.contentType, 'Cache-Control': 'no-store' });
  });
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc === 'function') {
    app.post('/debug/gc', (c) => {
      gc();
      gc();
      const m = process.memoryUsage();
      return c.json({ heapUsedBytes: m.heapUsed, rssBytes: m.rss, externalBytes: m.external });
    });
  }
}
