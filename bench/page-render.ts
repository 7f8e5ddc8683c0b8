import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { launchChromium, startApp } from '../test/browser/harness.ts';

// Time to first render of the live sky page in Debian's Chromium, against the real app (embedded mode), the same
// harness the browser tests use. Each visit is a fresh browser context (no cache, no service state) loading `/` with
// geolocation granted at London; it ends once all ten rows show an altitude.
//
// Figures, all from navigation start by the page's own clock (not this process's):
//   first render      - the page's `orrery:first-render` mark: the table drawn from the first snapshot
//   first live data   - the page's `orrery:first-live` mark: the first snapshot off the stream (before it is drawn)
//   DOMContentLoaded  - the navigation entry's domContentLoadedEventEnd: the baseline, what any page of this size costs
//   ratio             - first render / DOMContentLoaded per visit: the page's own work (its requests, its stream,
//                       drawing) relative to loading it, less sensitive to how busy the machine is than either alone
//
//   node --import tsx bench/page-render.ts [--visits 20]        (npm run bench:page -- --visits 20)
//
// Page weight (first visit): the bytes of the page's own files (HTML, CSS, scripts, star data, icons: every same-origin
// request that is not an API route or a stream), as served here (uncompressed) and gzipped (as nginx sends them).
//
// Loopback only, one browser, one page at a time, bounded visits.

const { values } = parseArgs({ options: { visits: { type: 'string', default: '20' } } });
const visits = Number(values.visits);
if (!Number.isInteger(visits) || visits < 1 || visits > 200) throw new Error('--visits must be an integer 1..200');

const percentile = (xs: readonly number[], p: number): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

const [app, browser] = await Promise.all([startApp({ env: { TICK_MS: '1000' } }), launchChromium()]);
const firstRender: number[] = [];
const firstLive: number[] = [];
let weight = { files: 0, raw: 0, gzip: 0 };
const dcl: number[] = [];
const ratio: number[] = [];
try {
  const london = { latitude: 51.5072, longitude: -0.1276 };
  for (let i = 0; i < visits; i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, permissions: ['geolocation'], geolocation: london });
    try {
      const page = await context.newPage();
      const files = new Set<string>();
      page.on('request', (r) => {
        const url = new URL(r.url());
        if (url.origin === app.url && /\.(html|css|js|json|svg|png|webmanifest)$|\/$/.test(url.pathname) && url.pathname !== '/openapi.json') files.add(url.pathname);
      });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${app.url}/`);
      await page.waitForFunction(
        () => {
          const cells = [...document.querySelectorAll('#bodies tbody tr[data-body] td[data-col=alt]')];
          return cells.length === 10 && cells.every((c) => /\d°$/.test(c.textContent ?? ''));
        },
        undefined,
        { timeout: 60_000 },
      );
      const t = await page.evaluate(() => ({
        render: performance.getEntriesByName('orrery:first-render')[0]?.startTime ?? NaN,
        live: performance.getEntriesByName('orrery:first-live')[0]?.startTime ?? NaN,
        dcl: (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined)?.domContentLoadedEventEnd ?? NaN,
      }));
      if (errors.length > 0) throw new Error(`visit ${i + 1}: page errors: ${errors.join('; ')}`);
      if (!Number.isFinite(t.render) || !Number.isFinite(t.dcl) || t.dcl <= 0) throw new Error(`visit ${i + 1}: no timings (${JSON.stringify(t)})`);
      firstRender.push(t.render);
      firstLive.push(t.live);
      if (i === 0) {
        // The sky data comes after the first draw: let it arrive before counting.
        await page.waitForFunction(() => {
          const stars = document.querySelector('.sky .stars');
          return !stars || !!stars.getAttribute('data-drawn-at');
        }, undefined, { timeout: 30_000 });
        for (const path of files) {
          const body = Buffer.from(await (await fetch(`${app.url}${path}`)).arrayBuffer());
          weight = { files: weight.files + 1, raw: weight.raw + body.length, gzip: weight.gzip + gzipSync(body, { level: 6 }).length };
        }
      }
      dcl.push(t.dcl);
      ratio.push(t.render / t.dcl);
    } finally {
      await context.close();
    }
  }
} finally {
  await browser.close();
  await app.stop();
}

const ms = (x: number): string => `${x.toFixed(0)} ms`;
console.log(`${visits} visits of / (fresh context each), timings from navigation start`);
console.log(`first live data    p50 ${ms(percentile(firstLive, 50))}   p90 ${ms(percentile(firstLive, 90))}   max ${ms(Math.max(...firstLive))}`);
console.log(`first render       p50 ${ms(percentile(firstRender, 50))}   p90 ${ms(percentile(firstRender, 90))}   max ${ms(Math.max(...firstRender))}`);
console.log(`DOMContentLoaded   p50 ${ms(percentile(dcl, 50))}   p90 ${ms(percentile(dcl, 90))}   max ${ms(Math.max(...dcl))}   (baseline)`);
console.log(`first render / DCL p50 ${percentile(ratio, 50).toFixed(2)}   p90 ${percentile(ratio, 90).toFixed(2)}`);
console.log(`page weight        ${weight.files} files, ${(weight.raw / 1024).toFixed(1)} KiB as served, ${(weight.gzip / 1024).toFixed(1)} KiB gzipped`);
