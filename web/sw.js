// The offline shell. The page's own files (the HTML, its styles, scripts, the star data, icons) are kept in a cache;
// every request for one goes to the network first and falls back to the kept copy only when the network fails, so a
// deploy is never hidden behind a stale copy. The API and the streams are never touched: they go to the network as if
// there were no worker, and the page itself says when they cannot be reached and retries.

const CACHE = 'orrery-shell-1';
/** The page's own files: the page, and anything with these endings. */
const SHELL_FILE = /\.(?:html|css|js|json|svg|png|webmanifest)$/;

const isShell = (url) => url.origin === self.location.origin && (url.pathname.endsWith('/') || SHELL_FILE.test(url.pathname));

self.addEventListener('install', (event) => {
  // What to keep is what the page names: its stylesheet, scripts and module graph (index.html lists every module as a
  // modulepreload), so no second list exists to fall behind.
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      const page = await fetch('./', { cache: 'no-cache' });
      const html = await page.clone().text();
      await cache.put('./', page);
      const names = [...html.matchAll(/(?:href|src)="([^":]+\.(?:css|js|svg|png|webmanifest))"/g)].map((m) => m[1]);
      await cache.addAll([...new Set([...names, 'data/sky.json', 'icons/icon-192.png', 'icons/icon-512.png'])]);
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) if (key !== CACHE) await caches.delete(key);
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  const navigation = request.mode === 'navigate';
  if (!navigation && !isShell(url)) return;
  event.respondWith(
    (async () => {
      try {
        const response = await fetch(request);
        if (response.ok && !navigation) {
          const copy = response.clone();
          event.waitUntil(caches.open(CACHE).then((cache) => cache.put(request, copy)));
        }
        return response;
      } catch (err) {
        const kept = await caches.match(navigation ? './' : request, { ignoreSearch: navigation });
        if (kept) return kept;
        throw err;
      }
    })(),
  );
});
