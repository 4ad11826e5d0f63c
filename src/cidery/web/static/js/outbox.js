// The loads waiting to be sent: queued while offline, sent in order when the connection
// returns and on every page load, each with the Idempotency-Key it was given when it was
// saved, so a send that reached the server before the connection dropped is answered
// from the server's memory (201, Idempotent-Replayed) and saved once. A load the server
// refuses stays on the page with the reason and "Discard"; the loads behind it still go.
import { explain } from "./messages.js";
import * as queue from "./queue.js";
import { Offline, send } from "./send.js";
import { netWeight, toKg } from "./units.js";

const user = document.querySelector('meta[name="cidery-user"]')?.content ?? "";
const channel = "BroadcastChannel" in window ? new BroadcastChannel("cidery-outbox") : null;
const afterAnswers = [];
// Answers that say "not now" rather than "no": the load stays queued and is tried again.
const LATER = new Set(["idempotency_in_flight", "conflict"]);
const FIRST_RETRY_MS = 15_000;
const LAST_RETRY_MS = 120_000;

let running = null;
let again = false;
let retryTimer = null;
let retryMs = FIRST_RETRY_MS;
let notice = "";

function plural(count, one, many) {
  return `${count} ${count === 1 ? one : many}`;
}

function fact(term, value) {
  const item = document.createElement("div");
  const dt = document.createElement("dt");
  const dd = document.createElement("dd");
  dt.textContent = term;
  dd.textContent = value;
  item.append(dt, dd);
  return item;
}

function card(entry, position) {
  const { body } = entry;
  const item = document.createElement("li");
  item.className = entry.refused ? "card queued refused" : "card queued";
  item.dataset.key = entry.key;
  const heading = document.createElement("h3");
  heading.textContent = `${entry.refused ? "Not saved" : "Queued"} ${position} · ${entry.variety}`;
  const facts = document.createElement("dl");
  facts.className = "facts";
  const net = netWeight(body.weight, body.gross_weight, body.tare_weight);
  const kg = Number(toKg(net, body.weight_unit).toFixed(3));
  facts.append(
    fact("Weight", `${net} ${body.weight_unit}`),
    fact("kg", String(kg)),
    fact("Brix", body.brix ?? "–"),
    fact("pH", body.ph ?? "–"),
  );
  item.append(heading, facts);
  if (body.notes) {
    const notes = document.createElement("p");
    notes.className = "notes";
    notes.textContent = body.notes;
    item.append(notes);
  }
  const state = document.createElement("p");
  if (!entry.refused) {
    state.className = "queued-state";
    state.textContent = "queued — will be sent when online";
    item.append(state);
    return item;
  }
  state.className = "refusal";
  state.textContent = `Refused when sent: ${entry.refused}`;
  const actions = document.createElement("p");
  actions.className = "actions";
  const discard = document.createElement("button");
  discard.type = "button";
  discard.className = "danger";
  discard.textContent = "Discard";
  discard.addEventListener("click", () => discardLoad(entry.id));
  actions.append(discard);
  item.append(state, actions);
  return item;
}

function showCount(entries) {
  const waiting = document.getElementById("waiting");
  if (!waiting) return;
  const queued = entries.filter((entry) => !entry.refused).length;
  const refused = entries.length - queued;
  let text = plural(queued, "load waiting", "loads waiting");
  if (refused) text += ` · ${refused} refused`;
  waiting.textContent = ` · ${text}`;
  waiting.dataset.count = String(queued);
}

// The queue as it is now: the count in the header and, on a run's page, its waiting loads.
export async function showQueue() {
  if (!user) return;
  let entries;
  try {
    entries = await queue.entriesOf(user);
  } catch {
    return; // no IndexedDB (a private window may refuse it): nothing can be waiting
  }
  showCount(entries);
  const list = document.getElementById("queued-loads");
  if (!list) return;
  const mine = entries.filter((entry) => entry.run === list.dataset.run);
  list.replaceChildren(...mine.map((entry, index) => card(entry, index + 1)));
  list.hidden = mine.length === 0;
  const none = document.querySelector("p#load-list"); // "No loads yet."
  if (none) none.hidden = mine.length > 0;
  const status = document.getElementById("queue-status");
  if (status) {
    status.textContent = notice;
    status.hidden = !notice;
  }
}

function changed() {
  channel?.postMessage("changed");
  return showQueue();
}

export async function waiting() {
  if (!user) return 0;
  return (await queue.entriesOf(user)).filter((entry) => !entry.refused).length;
}

// Keep a load to send later: { run, url, body, key, variety }. Throws when the browser
// cannot store it (the caller then says it was not saved).
export async function enqueue(load) {
  await queue.add({ ...load, user, at: new Date().toISOString(), refused: null });
  await changed();
}

async function discardLoad(id) {
  await queue.remove(id);
  await changed();
  document.getElementById("load-status")?.replaceChildren("Queued load discarded.");
  document.getElementById("weight")?.focus();
}

function retryLater(seconds) {
  clearTimeout(retryTimer);
  const delay = seconds ? seconds * 1000 : retryMs;
  retryMs = Math.min(retryMs * 2, LAST_RETRY_MS);
  retryTimer = setTimeout(sendQueued, delay);
}

// Try the queue again in a while (a send just got no answer though the page is online).
export function sendLater() {
  if (user && navigator.onLine && !running) retryLater();
}

// One pass over the queue, oldest first. Returns how many loads the server answered.
async function pass() {
  let answered = 0;
  notice = "";
  for (const entry of await queue.entriesOf(user)) {
    if (entry.refused) continue;
    let answer;
    try {
      answer = await send(entry.url, entry.body, { key: entry.key });
    } catch (error) {
      if (!(error instanceof Offline)) throw error;
      retryLater();
      break;
    }
    if (answer.ok) {
      await queue.remove(entry.id);
      answered += 1;
      continue;
    }
    if (answer.status === 401) {
      notice = "Your session has ended: sign in again and the waiting loads will be sent.";
      break;
    }
    const code = answer.data?.code ?? "";
    if (code === "csrf_failed") {
      notice = "This page is out of date: reload it and the waiting loads will be sent.";
      break;
    }
    if (answer.status >= 500 || answer.status === 429 || LATER.has(code)) {
      retryLater(Number(answer.headers?.get("Retry-After")) || 0);
      break;
    }
    entry.refused = explain(answer.data);
    await queue.put(entry);
    answered += 1;
  }
  if (answered) retryMs = FIRST_RETRY_MS;
  return answered;
}

function exclusively(work) {
  // One tab at a time sends the queue: two would send the same load at once.
  return navigator.locks ? navigator.locks.request("cidery-outbox", work) : work();
}

// Send what waits, in order. Called on every page load, when the connection returns,
// and after a load is queued while the page believed it was online.
export function sendQueued() {
  if (!user) return Promise.resolve();
  if (running) {
    again = true;
    return running;
  }
  clearTimeout(retryTimer);
  running = (async () => {
    let answered = 0;
    try {
      do {
        again = false;
        answered += await exclusively(pass);
      } while (again);
    } catch {
      // The browser could not read its store; the loads stay where they are.
    } finally {
      running = null;
    }
    if (answered) {
      channel?.postMessage("changed");
      for (const callback of afterAnswers) await callback();
    }
    await showQueue();
  })();
  return running;
}

// What to do once the server has answered queued loads (the run page refreshes its totals).
export function afterAnswered(callback) {
  afterAnswers.push(callback);
}

export function startOutbox() {
  if (!user) return;
  channel?.addEventListener("message", () => showQueue());
  window.addEventListener("online", () => sendQueued());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && navigator.onLine) sendQueued();
  });
  showQueue().then(() => sendQueued());
}
