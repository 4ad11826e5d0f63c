// Opening the pages with no connection: the service worker (/sw.js) keeps the app shell
// and the pages opened here. Once this page is kept, <html data-offline-ready> says so.
// Signing out empties the kept pages first, so the next person sees none of them.

const PAGES = "cidery-pages-";

function ask(worker, message) {
  return new Promise((resolve) => {
    const reply = new MessageChannel();
    reply.port1.onmessage = (event) => resolve(event.data);
    worker.postMessage(message, [reply.port2]);
  });
}

async function forgetPages() {
  if (!("caches" in window)) return;
  for (const name of await caches.keys()) {
    if (name.startsWith(PAGES)) await caches.delete(name);
  }
}

function forgetOnSignOut(form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await forgetPages();
    } finally {
      form.submit();
    }
  });
}

export async function workOffline() {
  const signOut = document.querySelector("form.sign-out");
  if (signOut) forgetOnSignOut(signOut);
  // Service workers need a secure context: https, or the machine itself (localhost).
  if (!("serviceWorker" in navigator)) return;
  try {
    await navigator.serviceWorker.register("/sw.js", { scope: "/", updateViaCache: "none" });
    const { active } = await navigator.serviceWorker.ready;
    const answer = await ask(active, { kind: "keep", url: location.href.split("#")[0] });
    if (answer === "kept") document.documentElement.dataset.offlineReady = "";
  } catch {
    // Without the worker the page still works online, and its queue still keeps loads.
  }
}
