// The add-load form, enhanced: the load is saved through the JSON API at once, the run's
// totals and loads are refreshed in place, the form is cleared for the next bin and
// "Weight" takes the focus. A refusal is shown beside the form in words. With no
// connection the load is queued (outbox.js) with the key it was given, and sent later.
import { explain } from "./messages.js";
import { afterAnswered, enqueue, sendLater, sendQueued, showQueue, waiting } from "./outbox.js";
import { refreshRegions } from "./regions.js";
import { Offline, newKey, send } from "./send.js";
import { netWeight } from "./units.js";

// The weight is given net or as a weigh tag; the server refuses both, or half a tag.
const WEIGHTS = ["weight", "gross_weight", "tare_weight"];
const OPTIONAL = ["brix", "ph", "notes"];

export function loadBody(form) {
  const fields = new FormData(form);
  const body = {
    purchase_item_id: fields.get("purchase_item_id"),
    weight_unit: fields.get("weight_unit"),
  };
  for (const name of [...WEIGHTS, ...OPTIONAL]) {
    const value = String(fields.get(name) ?? "").trim();
    if (value) body[name] = value;
  }
  return body;
}

function showRefusal(box, text) {
  box.replaceChildren();
  if (!text) return;
  const message = document.createElement("p");
  message.className = "refusal";
  message.setAttribute("role", "alert");
  message.textContent = text;
  box.append(message);
}

// The run's totals, loads and purchase lines as the server now renders them.
export async function refreshRun(form) {
  const fresh = await refreshRegions(["run-totals", "loads", "fruit-left"]);
  if (!fresh) return;
  const lines = fresh.getElementById("purchase_item_id");
  const select = form.elements.purchase_item_id;
  if (!lines) {
    location.reload(); // no fruit left on any line: the page says so
    return;
  }
  const chosen = select.value;
  select.replaceChildren(...Array.from(lines.children, (option) => document.adoptNode(option)));
  if (Array.from(select.options).some((option) => option.value === chosen)) select.value = chosen;
  await showQueue();
}

function clearForLoad(form) {
  for (const name of [...WEIGHTS, ...OPTIONAL]) form.elements[name].value = "";
  form.elements.weight.dispatchEvent(new Event("input", { bubbles: true }));
}

// Where the next bin's weight goes: the field the last one was entered in.
function weightField(form, body) {
  return "weight" in body || !("gross_weight" in body)
    ? form.elements.weight
    : form.elements.gross_weight;
}

function varietyOf(form) {
  const option = form.elements.purchase_item_id.selectedOptions[0];
  return option?.dataset.variety ?? "";
}

// Keep the load to send when the connection returns; false if the browser cannot.
// `behind`: queued after earlier loads while online (they all go now), rather than
// after a send that got no answer (tried again in a while).
async function queueLoad(form, load, status, refusal, behind) {
  const { weight, gross_weight: gross, tare_weight: tare } = load.body;
  if (netWeight(weight, gross, tare) === null) {
    showRefusal(refusal, "Enter the weight, or gross above tare, as numbers such as 385.5");
    return false;
  }
  try {
    await enqueue(load);
  } catch {
    showRefusal(refusal, "Not saved: no connection. Save again when the page is online.");
    return false;
  }
  clearForLoad(form);
  status.textContent =
    behind || !navigator.onLine
      ? "Load queued — will be sent when online."
      : "No answer from the server: load queued, it will be sent again shortly.";
  if (behind && navigator.onLine) sendQueued();
  else sendLater();
  return true;
}

export function enhanceLoadForm(form) {
  const status = document.getElementById("load-status");
  const refusal = document.getElementById("load-refusal");
  const button = form.querySelector('button[type="submit"]');
  afterAnswered(() => refreshRun(form));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showRefusal(refusal, null);
    status.textContent = "";
    button.disabled = true;
    // The key is made before the first try: a load queued after a send that got no
    // answer keeps it, so the server saves it once even if that send reached it. So is
    // the time: a load saved offline is recorded as pressed when it was entered, not
    // when the connection came back, and every try sends the same body.
    const load = {
      run: form.dataset.run,
      url: form.dataset.api,
      body: { ...loadBody(form), pressed_at: new Date().toISOString() },
      key: newKey(),
      variety: varietyOf(form),
    };
    try {
      if (await waiting().catch(() => 0)) {
        // Loads queued earlier go first: this one joins the end of the queue.
        await queueLoad(form, load, status, refusal, true);
        return;
      }
      const answer = await send(load.url, load.body, { key: load.key });
      if (answer.ok) {
        await refreshRun(form);
        clearForLoad(form);
        status.textContent = `Load ${answer.data.load_sequence} saved.`;
      } else if (answer.status === 401) {
        location.assign("/sign-in");
        return;
      } else {
        showRefusal(refusal, explain(answer.data));
      }
    } catch (error) {
      if (!(error instanceof Offline)) throw error;
      await queueLoad(form, load, status, refusal, false);
    } finally {
      button.disabled = false;
      weightField(form, load.body).focus();
    }
  });
}
