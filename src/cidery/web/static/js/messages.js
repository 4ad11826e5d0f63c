// A refused save in words, from the API's problem answer: the server's own templates
// (cidery.web.messages) filled with the refusal's figures, else the server's detail.
import { config } from "./config.js";

function plain(value) {
  const number = Number(value);
  return Number.isFinite(number) ? String(number) : String(value);
}

function sentence(text) {
  return text ? text.charAt(0).toUpperCase() + text.slice(1) : text;
}

// The API's field names written as the form's labels, as the server's pages write them.
function inLabels(text) {
  const names = Object.keys(config.labels ?? {});
  if (!names.length) return text;
  const pattern = new RegExp(`\\b(${names.join("|")})\\b`, "g");
  return text.replace(pattern, (name) => config.labels[name]);
}

export function explain(problem) {
  if (!problem || typeof problem !== "object") return "The save failed: try again";
  const template = config.messages[problem.code];
  const details = problem.details ?? {};
  if (template) {
    let complete = true;
    const text = template.replace(/\{(\w+)\}/g, (_, name) => {
      if (!(name in details)) complete = false;
      return plain(details[name]);
    });
    if (complete) return text;
  }
  return sentence(inLabels(problem.detail ?? problem.title ?? "The save failed: try again"));
}
