import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../test/browser/harness.ts';

// `node --import tsx scripts/icons.ts`: the installable app's PNG icons (web/icons/icon-192.png, icon-512.png), drawn
// from web/favicon.svg by Debian's Chromium on the page's night-blue, with a margin for masking. Run after changing
// the logo; the PNGs are committed.

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const browser = await launchChromium();
try {
  for (const size of [192, 512]) {
    const page = await browser.newPage({ viewport: { width: size, height: size } });
    const svg = readFileSync(`${ROOT}web/favicon.svg`, 'utf8').replace('<svg ', `<svg width="${Math.round(size * 0.72)}" height="${Math.round(size * 0.72)}" `);
    await page.setContent(`<body style="margin:0;background:#070b1d;display:grid;place-items:center;height:${size}px">${svg}</body>`);
    await page.screenshot({ path: `${ROOT}web/icons/icon-${size}.png` });
    await page.close();
  }
} finally {
  await browser.close();
}
