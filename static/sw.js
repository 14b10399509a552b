// Broker Lab's service worker: after the first visit the app opens with no network, which a
// seminar room often lacks. Trunk names every asset by its content hash, so a cached asset
// never goes stale: assets are served cache-first, and only the page itself is fetched
// network-first (falling back to the cached page) so that a new build is picked up.
// The scenario files are not in the page: the app sends their addresses once it runs
// (src/presets.rs `keep_offline`), each with its content hash, so they are cached the same way.
const CACHE = 'broker-lab';
const PAGE = new URL('./', self.registration.scope).href;
const SCENARIOS = new URL('scenarios/', PAGE).href;

// The hashed files a page references: the module, the wasm, the stylesheet, the initializer.
function assetsOf(html) {
  const urls = [...html.matchAll(/["']([^"'\s]+\.(?:js|wasm|css))["']/g)].map(
    (m) => new URL(m[1], PAGE).href,
  );
  return [...new Set(urls)];
}

// Stores `page` and every asset it names, then forgets files no longer referenced.
async function keep(page) {
  const cache = await caches.open(CACHE);
  const assets = assetsOf(await page.clone().text());
  await cache.put(PAGE, page);
  for (const url of assets) {
    if (!(await cache.match(url))) {
      await cache.add(url);
    }
  }
  const wanted = new Set([PAGE, ...assets]);
  for (const req of await cache.keys()) {
    // Scenario files are the app's list to keep (below).
    if (!wanted.has(req.url) && !req.url.startsWith(SCENARIOS)) {
      await cache.delete(req);
    }
  }
}

// Stores every scenario file the app lists, then forgets versions it no longer lists. With no
// network the missing ones stay missing; the app sends the list again on its next start.
async function keepScenarios(urls) {
  const cache = await caches.open(CACHE);
  const wanted = new Set(urls.map((url) => new URL(url, PAGE).href));
  if (![...wanted].every((url) => url.startsWith(SCENARIOS))) {
    return;
  }
  const results = await Promise.allSettled(
    [...wanted].map(async (url) => (await cache.match(url)) ?? cache.add(url)),
  );
  if (results.some((r) => r.status === 'rejected')) {
    return;
  }
  for (const req of await cache.keys()) {
    if (req.url.startsWith(SCENARIOS) && !wanted.has(req.url)) {
      await cache.delete(req);
    }
  }
}

self.addEventListener('message', (event) => {
  const urls = event.data?.scenarios;
  if (event.source?.url?.startsWith(PAGE) && Array.isArray(urls) && urls.every((u) => typeof u === 'string')) {
    event.waitUntil(keepScenarios(urls));
  }
});

self.addEventListener('install', (event) => {
  event.waitUntil(
    fetch(PAGE, { cache: 'no-cache' })
      .then(keep)
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

async function navigate(request) {
  try {
    const page = await fetch(request);
    if (page.ok) {
      // Keep the newest build for the next offline visit, without delaying this one.
      keep(page.clone()).catch(() => {});
    }
    return page;
  } catch {
    const cached = await caches.match(PAGE);
    return cached ?? Response.error();
  }
}

async function asset(request) {
  const cached = await caches.match(request);
  if (cached) {
    return cached;
  }
  const response = await fetch(request);
  if (response.ok) {
    const copy = response.clone();
    caches.open(CACHE).then((cache) => cache.put(request, copy));
  }
  return response;
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) {
    return;
  }
  event.respondWith(request.mode === 'navigate' ? navigate(request) : asset(request));
});
