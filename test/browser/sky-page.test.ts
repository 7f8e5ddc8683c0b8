import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { isHostNetworkChange, launchChromium, startApp, type App } from './harness.ts';

// Issue 17 in headless Chromium against the real app (embedded mode): tonight, visible now, happenings pushed and
// counted down, the exact spot, time travel, the chart (stars, non-overlapping labels, keyboard), place search with
// the observer's own time zone, night mode, the offline shell. Every page records console errors, uncaught
// exceptions and CSP violations (the app serves the page under the same policy as nginx); each test ends with none.

const ENV = { TICK_MS: '1000' };
let app: App;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  [app, browser] = await Promise.all([startApp({ env: ENV }), launchChromium()]);
});

afterAll(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.close()));
  await browser?.close();
  await app?.stop();
});

interface Opened {
  page: Page;
  errors: string[];
  requests: URL[];
}

/** Counts EventSources the page holds open: the page's own constructor, observed (nothing replaced). */
const COUNT_STREAMS = `(() => {
  const Native = window.EventSource;
  window.__streams = new Set();
  window.EventSource = class extends Native {
    constructor(...args) { super(...args); window.__streams.add(this); }
    close() { window.__streams.delete(this); super.close(); }
  };
  document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));
})()`;

async function open(path: string, options: BrowserContextOptions = {}, target = app): Promise<Opened> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC', ...options });
  contexts.push(context);
  await context.addInitScript(COUNT_STREAMS);
  const page = await context.newPage();
  const errors: string[] = [];
  const requests: URL[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !isHostNetworkChange(m.text())) errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => requests.push(new URL(r.url())));
  await page.goto(`${target.url}${path}`);
  return { page, errors, requests };
}

async function closeContexts(): Promise<void> {
  await Promise.all(contexts.splice(0).map((c) => c.close()));
}

/** Waits until the table shows data of `source` (and, for live, of location `id`). */
async function waitForTable(page: Page, source: 'live' | 'exact' | 'travel', id?: string, timeout = 30_000): Promise<string> {
  await page.waitForFunction(
    ([want, loc]) => {
      const t = document.getElementById('bodies');
      return t?.dataset.source === want && !!t.dataset.time && (!loc || t.dataset.locationId === loc);
    },
    [source, id ?? ''] as const,
    { timeout },
  );
  return (await page.locator('#bodies').getAttribute('data-time')) ?? '';
}

/**
 * The table's instant and the altitudes it shows, by body, read at one moment: a live table may be redrawn for the
 * next tick between two separate reads, and the values would then belong to another instant than the time read.
 */
const tableAlts = (page: Page): Promise<{ time: string; alts: Record<string, number> }> =>
  page.$eval('#bodies', (table) => ({
    time: (table as HTMLElement).dataset.time ?? '',
    alts: Object.fromEntries(
      [...table.querySelectorAll('tbody tr')].map((r) => [
        (r as HTMLElement).dataset.body,
        Number((r.querySelector('[data-col=alt]')?.textContent ?? '').replace('−', '-').replace('°', '')),
      ]),
    ),
  }));

/** Local wall time `HH:MM` of an instant in a zone, by the test's own Intl (not the page's code). */
const hhmm = (iso: string, zone: string): string =>
  new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso));

const json = async (path: string): Promise<any> => (await fetch(`${app.url}${path}`)).json();

describe('the page a sky watcher keeps open', () => {
  it('a spot far from any city (geolocation granted): its own time zone, tonight from /tonight, and only what can be seen listed as visible', async () => {
    // Mid-Pacific: the nearest grid city is hundreds of km away and in another zone.
    const at = { latitude: 0, longitude: -140 };
    const { page, errors, requests } = await open('/', { permissions: ['geolocation'], geolocation: at });
    await waitForTable(page, 'live');
    const zone = (await json(`/timezone?lat=0&lon=-140`)).timezone as string;
    expect(zone).toBe('Etc/GMT+9');
    const nearest = (await json('/locations/nearest?lat=0&lon=-140')).location;
    expect(nearest.timezone).not.toBe(zone);
    // Times on the page are in the spot's zone, not the city's.
    await expect.poll(() => page.locator('#table-foot').textContent()).toContain('Etc/GMT+9 time');
    await expect.poll(() => page.locator('#live-meta').textContent()).toContain('Etc/GMT+9 time');

    // Tonight: asked for the spot itself, and drawn as /tonight answers.
    await page.waitForFunction(() => document.querySelectorAll('#tonight-bodies li[data-body]').length === 9);
    const asked = requests.find((u) => u.pathname === '/tonight');
    expect(asked?.searchParams.get('lat')).toBe('0');
    expect(asked?.searchParams.get('lon')).toBe('-140');
    const plan = await json(`/tonight?${asked!.searchParams}`);
    for (const b of plan.bodies) {
      const li = page.locator(`#tonight-bodies li[data-body=${b.name}]`);
      expect(await li.getAttribute('data-visible'), b.name).toBe(String(b.visible));
      const text = (await li.textContent()) ?? '';
      if (b.visible) {
        expect(text, b.name).toContain(hhmm(b.window.start, zone));
        expect(text, b.name).toContain(`${Math.round(b.best.alt)}° up`);
      } else {
        expect(text, b.name).toContain(b.reason);
      }
    }
    const instruments = await page.$$eval('#tonight-bodies .instrument', (els) => els.map((e) => e.textContent));
    expect(instruments).toContain('telescope'); // Pluto

    // Visible now: each listed body is 10° up and naked-eye bright, by the table's own numbers; the Sun never.
    const chips = await page.$$eval('#up-now li', (lis) => lis.map((li) => (li as HTMLElement).dataset.body ?? `empty:${li.textContent}`));
    const { alts } = await tableAlts(page);
    const mags = await page.$$eval('#bodies tbody tr', (rows) =>
      Object.fromEntries(rows.map((r) => [(r as HTMLElement).dataset.body, Number((r.querySelector('[data-col=mag]')?.textContent ?? '').replace('−', '-'))])),
    );
    for (const c of chips) {
      if (c.startsWith('empty:')) {
        expect(c).toMatch(/too bright|Not dark enough|Nothing bright enough/);
        continue;
      }
      expect(c).not.toBe('sun');
      expect(alts[c], c).toBeGreaterThanOrEqual(10 - 0.5);
      expect(mags[c], c).toBeLessThanOrEqual(6);
    }
    expect(chips).not.toContain('pluto');
    expect(errors).toEqual([]);
    await closeContexts();
  });

  it('geolocation denied: a place found by name (keyboard only) becomes the observer, in its own time zone; typed coordinates work too', async () => {
    const { page, errors } = await open('/');
    await expect.poll(() => page.locator('#notice').textContent()).toMatch(/not allowed/i);
    await page.locator('#place').focus();
    await page.keyboard.type('reykjav');
    await page.waitForSelector('#place-results [role=option]');
    await page.keyboard.press('ArrowDown');
    expect(await page.locator('#place').getAttribute('aria-activedescendant')).toBe('place-option-0');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#observer-note').textContent()).toContain('Reykjavík');
    await expect.poll(() => page.locator('#table-foot').textContent()).toContain('Atlantic/Reykjavik time');
    const lat = Number(await page.inputValue('#lat'));
    expect(lat).toBeCloseTo(64.14, 1);

    // Coordinates in the same box: the point itself, named by its nearest place.
    await page.locator('#place').fill('31.76N 106.49W');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.inputValue('#lat')).toBe('31.76');
    await expect.poll(() => page.locator('#table-foot').textContent()).toContain('America/Denver time');
    expect(await page.locator('#observer-note').textContent()).toContain('near El Paso');
    expect(errors).toEqual([]);
    await closeContexts();
  });

  it('your exact spot live: switching keeps one connection, and the values are the spot’s own', async () => {
    const at = { latitude: 45.1234, longitude: 7.6543 };
    const { page, errors, requests } = await open('/', { permissions: ['geolocation'], geolocation: at });
    await waitForTable(page, 'live');
    const streams = (): Promise<number> => page.evaluate(() => (window as unknown as { __streams: Set<EventSource> }).__streams.size);
    expect(await streams()).toBe(1);
    await page.locator('#source-live').focus();
    await page.keyboard.press('ArrowRight');
    await waitForTable(page, 'exact');
    const spot = requests.filter((u) => u.pathname === '/stream' && u.searchParams.get('lat') === '45.1234');
    expect(spot.length).toBeGreaterThan(0); // the spot's own stream was asked for
    // Streamed on the spot's own stream (issue 16), not computed on demand: the page asked no /planets for it.
    await expect.poll(() => page.locator('#source-note').textContent()).toMatch(/^Streamed live for 45\.1234° N, 7\.6543° E/);
    expect(requests.filter((u) => u.pathname === '/planets')).toEqual([]);
    expect(await streams()).toBe(1);
    const { time, alts } = await tableAlts(page);
    const answer = await json(`/planets?lat=${at.latitude}&lon=${at.longitude}&elevation=0&time=${time}`);
    for (const b of answer.bodies) expect(Math.abs(alts[b.name]! - b.alt), b.name).toBeLessThanOrEqual(0.005 + 1e-9);
    // Live: the spot's next tick arrives and is drawn.
    await page.waitForFunction((t) => { const d = document.getElementById('bodies')?.dataset; return d?.source === 'exact' && d.time !== t; }, time);
    await page.keyboard.press('ArrowLeft');
    await waitForTable(page, 'live');
    expect(await streams()).toBe(1);
    // Back on the grid stream, its updates keep arriving.
    const before = await page.locator('#bodies').getAttribute('data-time');
    await page.waitForFunction((t) => document.getElementById('bodies')?.dataset.time !== t, before);
    expect(errors).toEqual([]);
    await closeContexts();
  });

  it('time travel round trip: a chosen local time, chart, table and tonight follow; back to live returns to the stream', async () => {
    const { page, errors } = await open('/?location=paris', { reducedMotion: 'reduce' });
    await waitForTable(page, 'live', 'paris');
    await expect.poll(() => page.locator('#table-foot').textContent()).toContain('Europe/Paris time');
    // 2026-03-20 21:30 in Paris (CET, UTC+1) is 20:30 UTC.
    await page.locator('#travel-at').fill('2026-03-20T21:30');
    await page.locator('#travel-at').dispatchEvent('change');
    const time = await waitForTable(page, 'travel');
    expect(time).toBe('2026-03-20T20:30:00.000Z');
    const paris = (await json('/locations')).locations.find((l: { id: string }) => l.id === 'paris');
    const answer = await json(`/planets?lat=${paris.lat}&lon=${paris.lon}&elevation=${paris.elevation}&time=${time}`);
    const { alts } = await tableAlts(page);
    for (const b of answer.bodies) expect(Math.abs(alts[b.name]! - b.alt), b.name).toBeLessThanOrEqual(0.005 + 1e-9);
    // The chart moved with it: the Moon's marker is where that instant puts it.
    const moon = answer.bodies.find((b: { name: string }) => b.name === 'moon');
    const m = await page.$eval('.sky .body[data-body=moon]', (g) => new DOMMatrix(getComputedStyle(g).transform));
    if (moon.alt >= 0) {
      const r = (160 * (90 - moon.alt)) / 90;
      expect(m.e).toBeCloseTo(-r * Math.sin((moon.az * Math.PI) / 180), 0);
    }
    await expect.poll(() => page.locator('#tonight-heading').textContent()).toBe('The night of 2026-03-20');
    expect(await page.locator('#travel-live').isEnabled()).toBe(true);
    // The slider moves on from there, by keyboard: two steps of 10 minutes.
    await page.locator('#travel-slider').focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.locator('#bodies').getAttribute('data-time')).toBe('2026-03-20T20:50:00.000Z');

    await page.getByRole('button', { name: 'Back to live' }).click();
    const live = await waitForTable(page, 'live', 'paris');
    expect(Math.abs(Date.parse(live) - Date.now())).toBeLessThan(60_000);
    await expect.poll(() => page.locator('#tonight-heading').textContent()).toBe('Tonight');
    expect(errors).toEqual([]);
    await closeContexts();
  });

  it('the chart: stars and figures drawn, labels never overlap (live, and with the Sun, Mercury and Venus together)', async () => {
    const { page, errors } = await open('/?location=london', { reducedMotion: 'reduce' });
    await waitForTable(page, 'live', 'london');
    await page.waitForFunction(() => !!document.querySelector('.sky .stars')?.getAttribute('data-drawn-at'));
    const starDots = await page.$$eval('.sky .star', (ps) => ps.map((p) => (p.getAttribute('d') ?? '').split('M').length - 1).reduce((a, b) => a + b, 0));
    // About half of the ~1,600 stars to magnitude 5 are above any horizon.
    expect(starDots).toBeGreaterThan(500);
    expect((await page.locator('.sky .figures').getAttribute('d'))?.length).toBeGreaterThan(100);
    expect(await page.locator('.sky .con-names text').count()).toBeGreaterThan(15);

    /** Every label's box against every other label and every other body's marker, in screen pixels. */
    const overlaps = (): Promise<string[]> =>
      page.evaluate(() => {
        const boxes = [...document.querySelectorAll('#sky .body')].map((g) => ({
          name: (g as SVGGElement).dataset.body!,
          label: g.querySelector('.label')!.getBoundingClientRect(),
          dot: g.querySelector('.dot')!.getBoundingClientRect(),
        }));
        const hit = (a: DOMRect, b: DOMRect) => a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
        const out: string[] = [];
        for (const a of boxes) {
          for (const b of boxes) {
            if (a === b) continue;
            if (a.name < b.name && hit(a.label, b.label)) out.push(`${a.name} label / ${b.name} label`);
            if (hit(a.label, b.dot)) out.push(`${a.name} label / ${b.name} marker`);
          }
        }
        return out;
      });
    expect(await overlaps()).toEqual([]);

    // A crowded horizon, drawn by the page's own chart: Sun, Mercury and Venus within a degree, the rest near.
    const crowd = `(async () => {
      const { SkyChart } = await import('/js/chart.js');
      const svg = document.getElementById('sky');
      const chart = new SkyChart(svg);
      window.__crowd = chart;
      const names = ['sun','moon','mercury','venus','mars','jupiter','saturn','uranus','neptune','pluto'];
      const spots = { sun: [250, 2], mercury: [250.6, 2.4], venus: [249.5, 1.6], moon: [251, 3], mars: [252, 2], jupiter: [248, 1], saturn: [250, 4], uranus: [250.3, -1], neptune: [249.8, -2], pluto: [250.2, -3] };
      const mags = { sun: -26.7, moon: -10, mercury: -0.5, venus: -3.9, mars: 1.2, jupiter: -2, saturn: 0.8, uranus: 5.7, neptune: 7.8, pluto: 14.4 };
      chart.update(names.map((name) => ({ name, az: spots[name][0], alt: spots[name][1], magnitude: mags[name], aboveHorizon: spots[name][1] >= 0,
        ra: 0, dec: 0, distance: 1, phase: 0.5, constellation: 'Sgr', rise: null, transit: null, set: null })), { time: new Date().toISOString(), lat: 51.5, lon: 0 });
    })()`;
    // The page's live chart would redraw over it every second: stop the stream first.
    await page.evaluate(() => (window as unknown as { __streams: Set<EventSource> }).__streams.forEach((s) => s.close()));
    await page.evaluate(`document.getElementById('sky').replaceChildren()`);
    await page.evaluate(crowd);
    expect(await page.locator('#sky .body').count()).toBe(10);
    expect(await overlaps()).toEqual([]);
    expect(errors.filter((e) => !/EventSource|stream/i.test(e))).toEqual([]);
    await closeContexts();
  });

  it('night mode: red on black, remembered across a reload', async () => {
    const { page, errors } = await open('/?location=london');
    await waitForTable(page, 'live', 'london');
    const toggle = page.getByRole('button', { name: 'Night mode' });
    expect(await toggle.getAttribute('aria-pressed')).toBe('false');
    await toggle.click();
    expect(await page.evaluate(() => document.documentElement.dataset.night)).toBe('on');
    expect(await toggle.getAttribute('aria-pressed')).toBe('true');
    const look = () =>
      page.evaluate(() => ({ filter: getComputedStyle(document.querySelector('main')!).filter, bg: getComputedStyle(document.body).backgroundColor }));
    expect((await look()).filter).toMatch(/url\(.*#night-red/);
    // Red only: the colour matrix's green and blue rows are zero.
    expect(await page.locator('#night-red feColorMatrix').getAttribute('values')).toMatch(/^\S+ \S+ \S+ 0 0 {2}0 0 0 0 0 {2}0 0 0 0 0 /);
    expect((await look()).bg).toBe('rgb(0, 0, 0)');
    await page.reload();
    // Applied before the page's module runs (theme.js in <head>): no bright flash, and still on.
    expect(await page.evaluate(() => document.documentElement.dataset.night)).toBe('on');
    await waitForTable(page, 'live', 'london');
    expect(await page.getByRole('button', { name: 'Night mode' }).getAttribute('aria-pressed')).toBe('true');
    await page.screenshot({ path: 'test-artifacts/page-night.png' });
    await page.getByRole('button', { name: 'Night mode' }).click();
    await page.reload();
    expect(await page.evaluate(() => document.documentElement.dataset.night)).toBeUndefined();
    expect(errors).toEqual([]);
    await closeContexts();
  });

  it('keyboard path: Tab reaches every control and every chart body, each named for a screen reader', async () => {
    const { page, errors } = await open('/?location=london', { reducedMotion: 'reduce' });
    await waitForTable(page, 'live', 'london');
    await page.waitForFunction(() => !!document.querySelector('.sky .stars')?.getAttribute('data-drawn-at'));
    await expect.poll(() => page.locator('#city').isEnabled()).toBe(true);
    const reached: string[] = [];
    for (let i = 0; i < 60; i++) {
      await page.keyboard.press('Tab');
      const f = await page.evaluate(() => {
        const a = document.activeElement as HTMLElement | null;
        if (!a || a === document.body) return null;
        const name = a.getAttribute('aria-label') ?? (a as HTMLInputElement).labels?.[0]?.textContent ?? a.textContent ?? '';
        return { key: a.id || (a as HTMLElement).dataset.body || (a as HTMLElement).dataset.star || a.tagName, name: name.trim() };
      });
      if (!f) continue;
      expect(f.name, f.key).not.toBe('');
      reached.push(f.key);
      if (f.key === 'source-live') break;
    }
    for (const id of ['night-toggle', 'place', 'lat', 'lon', 'elevation', 'city', 'reset-location', 'travel-slider', 'travel-at', 'source-live']) {
      expect(reached, id).toContain(id);
    }
    for (const body of ['sun', 'moon', 'mercury', 'venus', 'mars', 'jupiter', 'saturn', 'uranus', 'neptune', 'pluto']) expect(reached, body).toContain(body);
    // A chart body in focus is described in words beside the chart.
    await page.locator('.sky .body[data-body=moon]').focus();
    await expect.poll(() => page.locator('#chart-detail').textContent()).toMatch(/^Moon: altitude −?\d+\.\d°, azimuth \d+\.\d° \(\w+\), magnitude/);
    expect(errors).toEqual([]);
    await closeContexts();
  });
});

describe('pushed happenings', () => {
  it('a happening pushed on the stream shows the moment it arrives; one that happened while the page was away is listed as missed on return', async () => {
    // The two grid locations with the soonest rise or set, late enough for a worker started now to publish them.
    const locations = (await json('/locations')).locations as { id: string }[];
    const from = new Date(Date.now() + 45_000).toISOString();
    const to = new Date(Date.now() + 240_000).toISOString();
    const soonest: { id: string; time: string; kind: string; body: string }[] = [];
    for (const l of locations) {
      const e = (await json(`/events?location=${l.id}&from=${from}&to=${to}&kinds=rise,set`)).events[0];
      if (e) soonest.push({ id: l.id, time: e.time, kind: e.kind, body: e.body });
    }
    soonest.sort((a, b) => a.time.localeCompare(b.time));
    // Page b is away from 15 s before its happening to 100 s after, then checked within a minute: on return a happening
    // younger than the page's replay age is rightly shown as a toast, so b's location must have no other happening of
    // any kind from shortly before the away time to the end of the check.
    const alone = async (c: { id: string; time: string }): Promise<boolean> => {
      const t = Date.parse(c.time);
      const around = `from=${new Date(t - 20_000).toISOString()}&to=${new Date(t + 180_000).toISOString()}`;
      return (await json(`/events?location=${c.id}&${around}`)).events.length === 1;
    };
    const shown = soonest[0];
    let missed: (typeof soonest)[number] | undefined;
    for (const c of soonest.slice(1)) {
      if (await alone(c)) {
        missed = c;
        break;
      }
    }
    expect(missed, 'rises or sets at two grid locations within 4 minutes, the second alone in its three minutes').toBeDefined();
    // A worker for those two locations alone: their first happenings chunks are ready at its first ticks.
    const second = await startApp({ env: { ...ENV, WORKER_LOCATIONS: `${shown!.id},${missed!.id}` }, warmLocation: shown!.id });
    try {
      const a = await open(`/?location=${shown!.id}`, {}, second);
      const b = await open(`/?location=${missed!.id}`, {}, second);
      await waitForTable(a.page, 'live', shown!.id);
      await waitForTable(b.page, 'live', missed!.id);
      await a.page.waitForSelector('#happenings li[data-kind] .countdown');
      expect(await a.page.locator('#happenings .countdown').first().textContent()).toMatch(/^in \d+|^now$/);

      // Page b goes away (its connection dropped, the network gone) from before its happening until well after it.
      const away = async (): Promise<void> => {
        await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(missed!.time) - Date.now() - 15_000)));
        await b.page.context().setOffline(true);
        await b.page.evaluate(() => (window as unknown as { __streams: Set<EventSource> }).__streams.forEach((s) => s.close()));
        await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(missed!.time) - Date.now() + 100_000)));
        await b.page.context().setOffline(false);
      };
      const awayDone = away();

      const toast = a.page.locator(`#toasts .toast[data-kind=${shown!.kind}]`);
      await toast.waitFor({ timeout: Date.parse(shown!.time) - Date.now() + 30_000 });
      expect(await toast.textContent()).toMatch(/(rises|sets)/);
      expect(await a.page.locator('#toasts').getAttribute('aria-live')).toBe('polite');
      expect(a.errors).toEqual([]);

      await awayDone;
      // Back: the stream resumes from the last event it had, the server replays the happening, and it is filed as missed.
      await b.page.locator('#missed').waitFor({ state: 'visible', timeout: 60_000 });
      expect(await b.page.locator('#missed-list li').first().getAttribute('data-kind')).toBe(missed!.kind);
      expect(await b.page.locator(`#toasts .toast`).count()).toBe(0);
      await waitForTable(b.page, 'live', missed!.id);
      await closeContexts();
    } finally {
      await second.stop();
    }
    // Bounded by the happenings' own times: up to ~4 minutes to the second one, 100 s away after it, the resume.
  }, 480_000);
});

describe('offline shell (runs last: it stops the server)', () => {
  it('a reload with the server gone shows the kept page, says it is offline, and goes live by itself when the server is back', async () => {
    const { page, errors } = await open('/?location=london');
    await waitForTable(page, 'live', 'london');
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    // The worker controls the page once it claims it; a reload makes sure every file went through it.
    await page.reload();
    await waitForTable(page, 'live', 'london');
    expect(await page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);
    const manifest = await (await fetch(`${app.url}/manifest.webmanifest`)).json();
    expect(manifest.icons.some((i: { sizes: string }) => i.sizes === '512x512')).toBe(true);

    await app.stop('SIGKILL');
    await page.reload();
    try {
      await expect.poll(() => page.locator('#offline').isVisible(), { timeout: 20_000 }).toBe(true);
    } catch (err) {
      await page.screenshot({ path: 'test-artifacts/offline-failed.png' });
      console.log('offline page errors:', errors, await page.evaluate(() => document.title + ' ' + document.body.textContent?.slice(0, 300)));
      throw err;
    }
    expect(await page.locator('#offline').textContent()).toMatch(/Offline/);
    expect(await page.locator('.brand-name').textContent()).toBe('Orrery');
    app = await startApp({ port: app.port, env: ENV });
    await waitForTable(page, 'live', 'london', 60_000);
    await expect.poll(() => page.locator('#offline').isVisible()).toBe(false);
    // Failed requests while the server was gone are the point of the test, not page errors.
    expect(errors.filter((e) => !/Failed to load resource|ERR_CONNECTION_REFUSED|EventSource/.test(e))).toEqual([]);
    await closeContexts();
  });
});
