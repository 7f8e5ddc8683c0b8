import { fileURLToPath } from 'node:url';
import { launchChromium, startApp } from '../test/browser/harness.ts';

// `node --import tsx scripts/screenshots.ts [location]`: refreshes the page's screenshots in docs/ (desktop, phone,
// night mode) from the real app in Debian's Chromium. Default location: tokyo (choose one where it is night).

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const location = process.argv[2] ?? 'tokyo';
const [app, browser] = await Promise.all([startApp({ env: { TICK_MS: '1000' }, warmLocation: location }), launchChromium()]);
try {
  const shots = [
    { file: 'screenshot-desktop.png', viewport: { width: 1280, height: 1000 }, mobile: false, night: false },
    { file: 'screenshot-phone.png', viewport: { width: 390, height: 844 }, mobile: true, night: false },
    { file: 'screenshot-night.png', viewport: { width: 390, height: 844 }, mobile: true, night: true },
  ];
  for (const s of shots) {
    const context = await browser.newContext({
      viewport: s.viewport,
      deviceScaleFactor: s.mobile ? 2 : 1,
      isMobile: s.mobile,
      hasTouch: s.mobile,
      reducedMotion: 'reduce',
    });
    if (s.night) await context.addInitScript(() => localStorage.setItem('orrery:night', 'on'));
    const page = await context.newPage();
    await page.goto(`${app.url}/?location=${location}`);
    await page.waitForFunction(() => document.getElementById('bodies')?.dataset.source === 'live');
    await page.waitForFunction(() => !!document.querySelector('.sky .stars')?.getAttribute('data-drawn-at'));
    await page.waitForFunction(() => document.querySelectorAll('#tonight-bodies li[data-body]').length > 0);
    if (s.night) await page.locator('.chart-card').scrollIntoViewIfNeeded();
    await page.waitForTimeout(500);
    await page.screenshot({ path: `${ROOT}docs/${s.file}` });
    await context.close();
  }
} finally {
  await browser.close();
  await app.stop();
}
