// cidery's service worker: the pages keep opening with no connection.
//
// The app shell (the stylesheet and the ES modules) is cached when the worker installs;
// every page an operator opens is kept as it was last answered. Both are asked of the
// network first and taken from the cache only when the network gives no answer, so a
// connected phone always sees the server's current page. The API is never cached, nor
// is anything but a plain 200 answer. Signing in or out empties the cache of pages: one
// person's runs are never shown to the next. The server fills in VERSION (a digest of
// this file and of the shell) and SHELL; a deploy that changes either installs a new
// worker, which deletes the caches of the old one.

const VERSION = "__VERSION__";
const SHELL = __SHELL__;
const SHELL_CACHE = `cidery-shell-${VERSION}`;
const PAGE_CACHE = `cidery-pages-${VERSION}`;
const NEVER = ["/api/", "/sw.js", "/docs", "/redoc", "/openapi.json"];
const SESSION_ENDS = ["/sign-in", "/sign-out"];

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL_CACHE);
      // "reload": the files as the server has them now, not the browser's HTTP cache.
      await cache.addAll(SHELL.map((url) => new Request(url, { cache: "reload" })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const current = [SHELL_CACHE, PAGE_CACHE];
      for (const name of await caches.keys()) {
        if (name.startsWith("cidery-") && !current.includes(name)) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

function cacheable(url) {
  return url.origin === self.location.origin && !NEVER.some((path) => url.pathname.startsWith(path));
}

function cacheFor(url) {
  return url.pathname.startsWith("/static/") ? SHELL_CACHE : PAGE_CACHE;
}

async function keep(request, response) {
  if (response.status !== 200 || response.type !== "basic" || response.redirected) return;
  const cache = await caches.open(cacheFor(new URL(request.url)));
  await cache.put(request, response);
}

async function cached(request) {
  const cache = await caches.open(cacheFor(new URL(request.url)));
  return (await cache.match(request)) ?? (await cache.match(request, { ignoreSearch: true }));
}

function notOpenedYet() {
  const html =
    '<!doctype html><html lang="en"><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    '<title>Offline · cidery</title><link rel="stylesheet" href="/static/site.css">' +
    '<main id="main"><h1>Offline</h1><p>This page was not opened on this device while it was ' +
    'online, so it cannot be shown without a connection.</p>' +
    '<p><a class="button" href="/pressing">Pressing</a></p></main></html>';
  return new Response(html, {
    status: 503,
    headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" },
  });
}

async function networkFirst(event) {
  const { request } = event;
  try {
    const response = await fetch(request);
    event.waitUntil(keep(request, response.clone()));
    return response;
  } catch (error) {
    const copy = await cached(request);
    if (copy) return copy;
    if (request.mode === "navigate") return notOpenedYet();
    throw error;
  }
}

async function forgetPages() {
  await caches.delete(PAGE_CACHE);
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET") {
    // The session changes hands: the pages kept for the last person go.
    if (url.origin === self.location.origin && SESSION_ENDS.includes(url.pathname)) {
      event.waitUntil(forgetPages());
    }
    return;
  }
  if (!cacheable(url)) return;
  event.respondWith(networkFirst(event));
});

// A page asks for itself to be kept (it was loaded before this worker controlled it);
// the answer tells it the page now opens offline.
self.addEventListener("message", (event) => {
  const { kind, url } = event.data ?? {};
  const port = event.ports[0];
  if (kind === "forget") {
    event.waitUntil(forgetPages().then(() => port?.postMessage("forgotten")));
    return;
  }
  if (kind !== "keep" || typeof url !== "string") return;
  const request = new Request(url, { credentials: "same-origin" });
  event.waitUntil(
    (async () => {
      let kept = Boolean(await cached(request));
      if (!kept && cacheable(new URL(request.url))) {
        try {
          await keep(request, await fetch(request));
          kept = Boolean(await cached(request));
        } catch {
          kept = false;
        }
      }
      port?.postMessage(kept ? "kept" : "not kept");
    })(),
  );
});
