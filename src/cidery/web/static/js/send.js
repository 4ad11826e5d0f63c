// Every save a script makes goes through here: a new Idempotency-Key per save, the
// session's CSRF token from the page's <meta>, JSON in and out. A save retried with its
// key is saved once, so a queue of saves (kept while offline) can send them again safely.

export class Offline extends Error {}

// A random (version 4) UUID. crypto.randomUUID exists only on https or localhost; a
// phone on the cidery's Wi-Fi may reach the server over plain http by its address.
export function newKey() {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content ?? "";
}

// Send one save; the answer as { ok, status, key, data, headers }. No answer at all (no network)
// throws Offline, for the caller to keep the save and send it again with the same key.
export async function send(url, body, { key = newKey(), method = "POST" } = {}) {
  let response;
  try {
    response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "Idempotency-Key": key,
        "X-CSRF-Token": csrfToken(),
      },
      body: JSON.stringify(body),
    });
  } catch (error) {
    throw new Offline("no connection", { cause: error });
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  return { ok: response.ok, status: response.status, key, data, headers: response.headers };
}
