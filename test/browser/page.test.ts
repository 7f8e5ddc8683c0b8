import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { haversineKm, isHostNetworkChange, launchChromium, startApp, type App } from './harness.ts';

// The live sky page in headless Chromium against the real app (embedded mode, in-process worker).
// One browser and one server for the file; the restart test runs last because it replaces the server.

const TICK_MS = 1000;
const ENV = { TICK_MS: String(TICK_MS) };
const ARTIFACTS = 'test-artifacts';
const BODIES = ['sun', 'moon', 'mercury', 'venus', 'mars', 'jupiter', 'saturn', 'uranus', 'neptune', 'pluto'];

interface Location {
  id: string;
  name: string;
  lat: number;
  lon: number;
  elevation: number;
  timezone: string;
}

let app: App;
let browser: Browser;
let locations: Location[];
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  [app, browser] = await Promise.all([startApp({ env: ENV }), launchChromium()]);
  locations = ((await (await fetch(`${app.url}/locations`)).json()) as { locations: Location[] }).locations;
  mkdirSync(ARTIFACTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

const byId = (id: string): Location => {
  const l = locations.find((x) => x.id === id);
  if (!l) throw new Error(`the grid has no ${id}`);
  return l;
};

/** The grid location nearest to a point, by the test's own haversine. */
const nearestTo = (lat: number, lon: number): Location =>
  locations.reduce((best, l) => (haversineKm(lat, lon, l.lat, l.lon) < haversineKm(lat, lon, best.lat, best.lon) ? l : best));

interface Opened {
  page: Page;
  /** console errors and uncaught exceptions seen by the page */
  errors: string[];
  /** pathnames of every request the page made, in order */
  requests: string[];
}

/** A fresh context (own permissions, geolocation, time zone) with a page that records errors and requests. */
async function open(path: string, options: BrowserContextOptions = {}): Promise<Opened> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, timezoneId: 'Europe/London', ...options });
  contexts.push(context);
  const page = await context.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !isHostNetworkChange(m.text())) errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => requests.push(new URL(r.url()).pathname));
  await page.goto(`${app.url}${path}`);
  return { page, errors, requests };
}

async function closeContexts(): Promise<void> {
  await Promise.all(contexts.splice(0).map((c) => c.close()));
}

const liveId = (page: Page): Promise<string | null> => page.locator('#live-location').getAttribute('data-location-id');
const tableTime = (page: Page): Promise<string | null> => page.locator('#bodies').getAttribute('data-time');

/** Waits until the table shows a live snapshot of `id`, newer than `after` when given. */
async function waitForLive(page: Page, id: string, after?: string | null, timeout = 20_000): Promise<string> {
  await page.waitForFunction(
    ([want, prev]) => {
      const t = document.getElementById('bodies');
      const s = document.getElementById('status');
      return (
        s?.dataset.state === 'live' &&
        t?.dataset.source === 'live' &&
        t.dataset.locationId === want &&
        !!t.dataset.time &&
        (!prev || t.dataset.time > prev)
      );
    },
    [id, after ?? ''] as const,
    { timeout },
  );
  return (await tableTime(page)) ?? '';
}

/** az and alt texts of every row, for "did the values change" checks. */
const positionTexts = (page: Page): Promise<string> =>
  page.$$eval('#bodies tbody tr', (rows) => rows.map((r) => `${r.querySelector('[data-col=az]')?.textContent}|${r.querySelector('[data-col=alt]')?.textContent}`).join(';'));

describe('live sky page', () => {
  it('loads without console errors, fills the table with all ten bodies, and changes on updates', async () => {
    const london = byId('london');
    const { page, errors } = await open('/', {
      permissions: ['geolocation'],
      geolocation: { latitude: london.lat + 0.01, longitude: london.lon + 0.01 },
    });
    await page.waitForFunction(
      () => {
        const cells = [...document.querySelectorAll('#bodies tbody tr[data-body] td[data-col=alt]')];
        return cells.length === 10 && cells.every((c) => /^−?\d+\.\d{2}°$/.test(c.textContent ?? ''));
      },
      undefined,
      // A wait against a hang, not a speed bound: how fast the first render comes is bench:page's job (BENCHMARKS.md).
      { timeout: 30_000 },
    );
    // The page marks its first render (what bench:page times); it has happened by now.
    expect(await page.evaluate(() => performance.getEntriesByName('orrery:first-render').length)).toBe(1);
    expect(await page.$$eval('#bodies tbody tr', (rows) => rows.map((r) => (r as HTMLElement).dataset.body))).toEqual(BODIES);

    // Every column is filled in the documented formats.
    const sun = await page.$eval('#bodies tr[data-body=sun]', (row) =>
      Object.fromEntries([...row.querySelectorAll('[data-col]')].map((c) => [(c as HTMLElement).dataset.col, c.textContent?.trim()])),
    );
    expect(sun.az).toMatch(/^\d{1,3}\.\d{2}° [NSEW]{1,3}$/);
    expect(sun.radec).toMatch(/^\d\dh \d\dm \d\d\.\ds[+−]\d\d° \d\d′ \d\d″$/);
    expect(sun.mag).toMatch(/^−26\.\d$/);
    expect(sun.const?.length).toBeGreaterThan(2);
    expect(sun.rise).toMatch(/rises\s*((\w{3} )?\d\d:\d\d|—)/);
    expect(sun.set).toMatch(/sets\s*((\w{3} )?\d\d:\d\d|—)/);
    expect(sun.horizon).toMatch(/Above|Below/);

    const first = await waitForLive(page, 'london');
    expect(await page.locator('#status').getAttribute('data-state')).toBe('live');
    expect(await page.locator('#status-text').getAttribute('aria-live')).toBe('polite');
    // The status names the instant of the snapshot on screen.
    const shown = await page.evaluate(() => [document.getElementById('last-update')?.getAttribute('datetime'), document.getElementById('bodies')?.dataset.time]);
    expect(shown[0]).toBe(shown[1]);
    expect(shown[0]! >= first).toBe(true);
    const before = await positionTexts(page);
    // The next tick arrives and is drawn; within a few ticks some az/alt moves in the 2nd decimal.
    await waitForLive(page, 'london', first);
    await page.waitForFunction((prev) => {
      const now = [...document.querySelectorAll('#bodies tbody tr')]
        .map((r) => `${r.querySelector('[data-col=az]')?.textContent}|${r.querySelector('[data-col=alt]')?.textContent}`)
        .join(';');
      return now !== prev;
    }, before, { timeout: 15_000 });

    await page.screenshot({ path: `${ARTIFACTS}/page-desktop.png` });
    expect(errors).toEqual([]);
    await closeContexts();
  });

  it('with geolocation granted, streams the nearest grid city and says how far it is', async () => {
    const tokyo = byId('tokyo');
    const at = { latitude: tokyo.lat + 0.03, longitude: tokyo.lon - 0.02 };
    const expected = nearestTo(at.latitude, at.longitude);
    const { page, errors } = await open('/', { permissions: ['geolocation'], geolocation: at, timezoneId: 'Europe/London' });
    await waitForLive(page, expected.id);
    expect(await liveId(page)).toBe(expected.id);
    const km = haversineKm(at.latitude, at.longitude, expected.lat, expected.lon);
    expect(await page.locator('#live-meta').textContent()).toContain(`${km.toFixed(1)} km from you`);
    expect(Number(await page.inputValue('#lat'))).toBeCloseTo(at.latitude, 3);
    expect(Number(await page.inputValue('#lon'))).toBeCloseTo(at.longitude, 3);
    expect(await page.locator('#notice').isHidden()).toBe(true);
    expect(errors).toEqual([]);
    await closeContexts();
  });

  it('with geolocation refused, falls back to a city in the browser time zone; the city picker and Reset location work', async () => {
    const sydney = byId('sydney');
    // No permission granted: Chromium answers the request with PERMISSION_DENIED.
    const { page, errors } = await open('/', { timezoneId: sydney.timezone });
    await expect.poll(() => page.locator('#notice').textContent()).toMatch(/not allowed/i);
    const fallback = locations.find((l) => l.timezone === sydney.timezone);
    await waitForLive(page, fallback!.id);
    await expect.poll(() => page.locator('#city').isEnabled()).toBe(true); // the picker fills when the page is idle

    const paris = byId('paris');
    await page.selectOption('#city', paris.id);
    await waitForLive(page, paris.id);
    expect(new URL(page.url()).searchParams.get('location')).toBe(paris.id);
    expect(Number(await page.inputValue('#lat'))).toBeCloseTo(paris.lat, 3);

    // The user changes their mind and allows location: "Reset location" asks again and moves there.
    const cairo = byId('cairo');
    await page.context().grantPermissions(['geolocation']);
    await page.context().setGeolocation({ latitude: cairo.lat + 0.01, longitude: cairo.lon + 0.01 });
    await page.getByRole('button', { name: 'Reset location' }).click();
    await waitForLive(page, nearestTo(cairo.lat + 0.01, cairo.lon + 0.01).id);
    expect(new URL(page.url()).searchParams.get('location')).toBeNull();
    expect(errors).toEqual([]);
    await closeContexts();
  });

  it('shows an inline error for invalid coordinates and keeps the last good view; valid ones apply once typing stops', async () => {
    const london = byId('london');
    const { page, requests } = await open('/', {
      permissions: ['geolocation'],
      geolocation: { latitude: london.lat, longitude: london.lon },
    });
    const first = await waitForLive(page, 'london');

    await page.getByLabel('Latitude').fill('95'); // found by its label, as a screen reader would
    await expect.poll(() => page.locator('#lat-error').textContent()).toMatch(/between −90 and 90/);
    expect(await page.getAttribute('#lat', 'aria-invalid')).toBe('true');
    await page.getByLabel('Longitude').fill('east');
    await expect.poll(() => page.locator('#lon-error').textContent()).toMatch(/number of degrees/);
    // Still London, still live, still updating.
    await waitForLive(page, 'london', first);
    expect(await liveId(page)).toBe('london');

    // A burst of keystrokes makes one request per route, after the half-second pause, not one per key.
    const cairo = byId('cairo');
    const zoneBefore = requests.filter((p) => p === '/timezone').length;
    const nearestBefore = requests.filter((p) => p === '/locations/nearest').length;
    // Keystrokes typed inside the page, 30 ms apart: a person typing fast, without this busy test
    // process's round trips to the browser stretching the gaps past the half-second pause.
    await page.evaluate(
      async ([lat, lon]) => {
        for (const [id, text] of [['lat', lat], ['lon', lon]] as const) {
          const input = document.getElementById(id) as HTMLInputElement;
          input.focus();
          input.value = '';
          for (const ch of text) {
            input.value += ch;
            input.dispatchEvent(new Event('input', { bubbles: true }));
            await new Promise((r) => setTimeout(r, 30));
          }
        }
      },
      [(cairo.lat + 0.01).toFixed(4), cairo.lon.toFixed(4)] as const,
    );
    const expected = nearestTo(cairo.lat + 0.01, cairo.lon);
    await waitForLive(page, expected.id);
    expect(await page.locator('#lat-error').textContent()).toBe('');
    expect(await page.getAttribute('#lat', 'aria-invalid')).toBeNull();
    await page.waitForTimeout(300);
    expect(requests.filter((p) => p === '/timezone').length - zoneBefore).toBe(1);
    expect(requests.filter((p) => p === '/locations/nearest').length - nearestBefore).toBe(1);
    await closeContexts();
  });

  it('switches the stream when a city is chosen, and updates keep arriving for it', async () => {
    const { page, requests } = await open('/?location=london');
    await waitForLive(page, 'london');
    const city = byId('new-york');
    await page.selectOption('#city', city.id);
    let t = await waitForLive(page, city.id);
    expect(await liveId(page)).toBe(city.id);
    for (let i = 0; i < 2; i++) t = await waitForLive(page, city.id, t);
    expect(requests).toContain(`/stream/${city.id}`);
    expect(await page.locator('#live-meta').textContent()).toContain('Your chosen city');
    await closeContexts();
  });

  it('opens a stream URL typed into the address bar on that location (the API redirects to /?location=)', async () => {
    const { page } = await open('/stream/sao-paulo');
    expect(new URL(page.url()).search).toBe('?location=sao-paulo');
    await waitForLive(page, 'sao-paulo');
    await expect.poll(() => page.inputValue('#city')).toBe('sao-paulo'); // the picker fills when the page is idle
    await closeContexts();
  });

  it('shows the on-demand values for the exact coordinates when asked', async () => {
    const capeTown = byId('cape-town');
    const at = { latitude: Number((capeTown.lat + 0.02).toFixed(4)), longitude: Number((capeTown.lon + 0.01).toFixed(4)) };
    const { page } = await open('/', { permissions: ['geolocation'], geolocation: at });
    await waitForLive(page, nearestTo(at.latitude, at.longitude).id);
    // By keyboard: the switch is a radio group, so an arrow key moves to "Your exact spot".
    await page.focus('#source-live');
    await page.keyboard.press('ArrowRight');
    expect(await page.isChecked('#source-exact')).toBe(true);
    await page.waitForFunction(() => document.getElementById('bodies')?.dataset.source === 'exact');
    // The instant and the values read at one moment: the table may be redrawn for the next tick between two reads.
    const { shown, time } = await page.$eval('#bodies', (table) => ({
      time: (table as HTMLElement).dataset.time ?? '',
      shown: [...table.querySelectorAll('tbody tr')].map((r) => Number((r.querySelector('[data-col=alt]')?.textContent ?? '').replace('−', '-').replace('°', ''))),
    }));
    const answer = (await (await fetch(`${app.url}/planets?lat=${at.latitude}&lon=${at.longitude}&elevation=0&time=${time}`)).json()) as {
      bodies: { alt: number }[];
    };
    shown.forEach((alt, i) => expect(Math.abs(alt - answer.bodies[i]!.alt)).toBeLessThanOrEqual(0.005 + 1e-9));
    expect(await page.locator('#source-note').textContent()).toContain(`${Math.abs(at.latitude).toFixed(4)}° S, ${at.longitude.toFixed(4)}° E`);
    await closeContexts();
  });

  it('draws each body at its azimuth and altitude with north up and east on the left, and formats RA/Dec and typed coordinates as documented', async () => {
    const { page } = await open('/?location=london', { reducedMotion: 'reduce' });
    await waitForLive(page, 'london');
    expect(await page.locator('.sky .body').first().evaluate((g) => getComputedStyle(g).transitionDuration)).toBe('0s');
    const drawn = await page.evaluate(() =>
      [...document.querySelectorAll('#bodies tbody tr')].map((row) => {
        const name = (row as HTMLElement).dataset.body!;
        const num = (col: string) => Number((row.querySelector(`[data-col=${col}]`)?.firstChild?.textContent ?? '').replace('−', '-').replace('°', ''));
        const m = new DOMMatrix(getComputedStyle(document.querySelector(`.sky .body[data-body=${name}]`)!).transform);
        return { name, az: num('az'), alt: num('alt'), x: m.e, y: m.f };
      }),
    );
    const R = 160; // horizon radius in the chart's user units
    for (const b of drawn.filter((d) => d.alt >= 0)) {
      const r = (R * (90 - b.alt)) / 90;
      const az = (b.az * Math.PI) / 180;
      expect(b.x, b.name).toBeCloseTo(-r * Math.sin(az), 0);
      expect(b.y, b.name).toBeCloseTo(-r * Math.cos(az), 0);
    }
    for (const b of drawn.filter((d) => d.alt < 0)) expect(Math.hypot(b.x, b.y), b.name).toBeGreaterThan(R);
    expect(await page.locator('.chart-caption').textContent()).toMatch(/east on the left/);

    // The formatting behind the table, called in the browser that runs it.
    // A string, so vitest's transform does not rewrite the dynamic import meant for the browser.
    const out = (await page.evaluate(`(async () => {
      const f = await import('/js/format.js');
      return {
        ra: [f.formatRA(5.5), f.formatRA(23.999999), f.formatRA(0.25 + 1 / 3600)],
        dec: [f.formatDec(-0.5), f.formatDec(22.014444), f.formatDec(89.99999)],
        lat: [f.parseCoordinate('33.9 S', 'lat'), f.parseCoordinate('51,5', 'lat'), f.parseCoordinate('95', 'lat').ok],
        lon: [f.parseCoordinate('\u22120.12', 'lon'), f.parseCoordinate('10 N', 'lon').ok],
        elevation: [f.parseElevation(''), f.parseElevation('12 m'), f.parseElevation('-600').ok],
      };
    })()`)) as Record<string, unknown[]>;
    expect(out.ra).toEqual(['05h 30m 00.0s', '00h 00m 00.0s', '00h 15m 01.0s']);
    expect(out.dec).toEqual(['−00° 30′ 00″', '+22° 00′ 52″', '+90° 00′ 00″']);
    expect(out.lat).toEqual([{ ok: true, value: -33.9 }, { ok: true, value: 51.5 }, false]);
    expect(out.lon).toEqual([{ ok: true, value: -0.12 }, false]);
    expect(out.elevation).toEqual([{ ok: true, value: 0 }, { ok: true, value: 12 }, false]);
    await closeContexts();
  });

  it('fits a phone screen without sideways scrolling', async () => {
    const { page, errors } = await open('/?location=london', {
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    await waitForLive(page, 'london');
    const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
    expect(widths.scroll).toBeLessThanOrEqual(widths.client);
    // With the location known, the form is folded so the sky comes first; one tap opens it.
    expect(await page.locator('#city').isVisible()).toBe(false);
    const sky = await page.locator('#sky').boundingBox();
    expect(sky!.y).toBeLessThan(844);
    await page.screenshot({ path: `${ARTIFACTS}/page-phone.png` });
    await page.locator('.change-summary').tap();
    await expect.poll(() => page.locator('#city').isVisible()).toBe(true);
    for (const id of ['#city', '#lat', '#reset-location', '#sky', '#bodies tr[data-body=pluto]']) {
      const box = await page.locator(id).boundingBox();
      expect(box, id).not.toBeNull();
      expect(box!.x, id).toBeGreaterThanOrEqual(0);
      expect(box!.x + box!.width, id).toBeLessThanOrEqual(390);
    }
    expect(errors).toEqual([]);
    await closeContexts();
  });

  it('reconnects by itself after the server restarts and shows live values again', async () => {
    const { page } = await open('/?location=london');
    /** every stream request's resume point: the Last-Event-ID header, or ?lastEventId= on a stream we re-created */
    const resumes: Promise<string>[] = [];
    page.on('request', (r) => {
      const url = new URL(r.url());
      // allHeaders(): the headers Chromium really sent, not the provisional ones.
      if (url.pathname === '/stream/london') resumes.push(r.allHeaders().then((h) => h['last-event-id'] ?? url.searchParams.get('lastEventId') ?? ''));
    });
    const before = await waitForLive(page, 'london');
    await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));

    await app.stop('SIGKILL');
    await page.waitForFunction(() => document.getElementById('status')?.dataset.state === 'reconnecting', undefined, { timeout: 20_000 });
    app = await startApp({ port: app.port, env: ENV });

    await waitForLive(page, 'london', before, 20_000);
    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
    // The reconnection asked to resume from the last tick it had drawn (or a later one).
    const lastResume = (await Promise.all(resumes)).at(-1) ?? '';
    expect(Number(lastResume)).toBeGreaterThanOrEqual(Date.parse(before));
    await closeContexts();
  });
});
