// Service worker: the app keeps working offline after one visit.
//
// The page registers it once Python is ready and then sends
//   {type: "cache", urls: [...]}   every same-origin file the page and the Python worker loaded
// and stores those not yet in Cache Storage (mostly straight from the HTTP cache); it answers
//   {type: "cached", count}        or {type: "cache-failed", message}.
// Every request goes to the network first (which for the versioned, immutable
// static/pyodide/<tag>/ means the HTTP cache: faster than Cache Storage, as Chromium
// then reuses the compiled WebAssembly), so edits show at once; the cached copy
// answers when the network fails. Other files' cached copies are refreshed as they load.
// It lives beside index.html, so its default scope is the whole app on any static host.

const CACHE = "digit-app-v1";
const RUNTIME = new URL("./static/pyodide/", self.location).pathname; // its <tag>/ folders never change

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) if (name !== CACHE) await caches.delete(name);
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("message", (event) => {
  const { type, urls } = event.data || {};
  if (type !== "cache") return;
  event.waitUntil(
    (async () => {
      try {
        const sameOrigin = [...new Set(urls)].filter((u) => new URL(u).origin === self.location.origin);
        const cache = await caches.open(CACHE);
        const missing = [];
        for (const url of sameOrigin) if (!(await cache.match(url))) missing.push(url);
        await cache.addAll(missing);
        event.source.postMessage({ type: "cached", count: sameOrigin.length });
      } catch (err) {
        event.source.postMessage({ type: "cache-failed", message: String(err?.message || err) });
      }
    })(),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  const versioned = url.pathname.startsWith(RUNTIME) && url.pathname.slice(RUNTIME.length).includes("/");
  event.respondWith(networkFirst(request, !versioned));
});

async function networkFirst(request, refresh) {
  try {
    const response = await fetch(request);
    if (refresh && response.ok) {
      const copy = response.clone();
      caches.open(CACHE).then((cache) => cache.put(request, copy));
    }
    return response;
  } catch (err) {
    // Offline: the cached copy (a page URL may differ only by its ?query).
    const cached =
      (await caches.match(request)) ||
      (request.mode === "navigate" && (await caches.match(request, { ignoreSearch: true })));
    if (cached) return cached;
    throw err;
  }
}
