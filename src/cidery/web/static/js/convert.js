// Live previews beside the fields: "= 385.55 kg" under a weight, the net of a weigh tag,
// "= 757.08 L" under a volume, and the yield in L/kg with the guardrail's warning on the completion form.
import { config } from "./config.js";
import { kgToLb, litresToGal, netWeight, parseAmount, toKg, toLitres } from "./units.js";

function checkedValue(form, name) {
  const chosen = form.querySelector(`input[name="${name}"]:checked`);
  return chosen ? chosen.value : null;
}

function watch(form, update) {
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  form.addEventListener("reset", () => setTimeout(update));
  update();
}

export function conversionText(kind, value, unit) {
  if (value === null) return "";
  if (kind === "weight") {
    return unit === "lb"
      ? `= ${toKg(value, "lb").toFixed(2)} kg`
      : `= ${kgToLb(value).toFixed(2)} lb`;
  }
  return unit === "gal"
    ? `= ${toLitres(value, "gal").toFixed(2)} L`
    : `= ${litresToGal(value).toFixed(2)} gal`;
}

export function wireConversions(root = document) {
  for (const output of root.querySelectorAll("output[data-convert]")) {
    const form = output.closest("form");
    const input = document.getElementById(output.getAttribute("for"));
    if (!form || !input) continue;
    watch(form, () => {
      const unit = checkedValue(form, output.dataset.unitField);
      output.textContent = conversionText(output.dataset.convert, parseAmount(input.value), unit);
    });
  }
}

// A weigh tag's net weight as it is typed: "Net 850 lb = 385.55 kg".
export function wireNetWeight(root = document) {
  for (const output of root.querySelectorAll("output[data-net]")) {
    const form = output.closest("form");
    if (!form) continue;
    watch(form, () => {
      const unit = checkedValue(form, output.dataset.unitField);
      const net = netWeight("", form.elements.gross_weight.value, form.elements.tare_weight.value);
      output.textContent =
        net === null ? "" : `Net ${net} ${unit} ${conversionText("weight", net, unit)}`;
    });
  }
}

export function wireYieldPreview(root = document) {
  const output = root.querySelector("output[data-yield]");
  const warning = document.getElementById("yield-warning");
  if (!output) return;
  const form = output.closest("form");
  const input = form.elements[output.dataset.volumeField];
  const totalKg = Number(output.dataset.totalKg);
  const low = Number(config.yield.low);
  const high = Number(config.yield.high);
  watch(form, () => {
    const volume = parseAmount(input.value);
    if (volume === null || !(totalKg > 0)) {
      output.textContent = "";
      if (warning) warning.hidden = true;
      return;
    }
    const litres = toLitres(volume, checkedValue(form, output.dataset.unitField));
    const rate = Number((litres / totalKg).toFixed(4));
    output.textContent = `Yield: ${rate} L/kg`;
    if (warning) {
      const outside = rate < low || rate > high;
      warning.hidden = !outside;
      warning.textContent = outside ? config.yield.warning.replace("{rate}", String(rate)) : "";
    }
  });
}
