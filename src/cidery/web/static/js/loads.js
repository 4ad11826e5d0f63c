// The add-load form, enhanced: the load is saved through the JSON API at once, the run's
// totals and loads are refreshed in place, the form is cleared for the next bin and
// "Weight" takes the focus. A refusal is shown beside the form in words.
import { explain } from "./messages.js";
import { Offline, send } from "./send.js";

const OPTIONAL = ["brix", "ph", "notes"];

export function loadBody(form) {
  const fields = new FormData(form);
  const body = {
    purchase_item_id: fields.get("purchase_item_id"),
    weight: String(fields.get("weight") ?? "").trim(),
    weight_unit: fields.get("weight_unit"),
  };
  for (const name of OPTIONAL) {
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
  const answer = await fetch(location.pathname, { credentials: "same-origin" });
  if (!answer.ok) return;
  const fresh = new DOMParser().parseFromString(await answer.text(), "text/html");
  for (const id of ["run-totals", "loads"]) {
    const replacement = fresh.getElementById(id);
    const current = document.getElementById(id);
    if (replacement && current) current.replaceWith(document.adoptNode(replacement));
  }
  const lines = fresh.getElementById("purchase_item_id");
  const select = form.elements.purchase_item_id;
  if (!lines) {
    location.reload(); // no fruit left on any line: the page says so
    return;
  }
  const chosen = select.value;
  select.replaceChildren(...Array.from(lines.children, (option) => document.adoptNode(option)));
  if (Array.from(select.options).some((option) => option.value === chosen)) select.value = chosen;
}

function clearForLoad(form) {
  for (const name of ["weight", ...OPTIONAL]) form.elements[name].value = "";
  form.elements.weight.dispatchEvent(new Event("input", { bubbles: true }));
}

export function enhanceLoadForm(form) {
  const status = document.getElementById("load-status");
  const refusal = document.getElementById("load-refusal");
  const weight = form.elements.weight;
  const button = form.querySelector('button[type="submit"]');
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showRefusal(refusal, null);
    status.textContent = "";
    button.disabled = true;
    try {
      const answer = await send(form.dataset.api, loadBody(form));
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
      showRefusal(refusal, "Not saved: no connection. Save again when the page is online.");
    } finally {
      button.disabled = false;
    }
    weight.focus();
  });
}
