// The completion form's vessels: "Left to assign" kept current as the juice and each
// vessel's volume are typed. "Add vessel" and "Remove" post the form back, so the rows
// stay the server's, with or without this script.
import { parseAmount } from "./units.js";

// Volumes are typed to the millilitre at most: count in thousandths, so that 0.1 + 0.2
// leaves exactly what is left.
const thousandths = (value) => Math.round(value * 1000);

export function leftToAssign(juice, volumes) {
  const total = parseAmount(juice);
  const typed = volumes.map((volume) => String(volume ?? "").trim());
  if (total === null || (typed.length === 1 && typed[0] === "")) return null;
  let given = 0;
  for (const volume of typed) {
    if (volume === "") continue;
    const amount = parseAmount(volume);
    if (amount === null) return null;
    given += thousandths(amount);
  }
  return (thousandths(total) - given) / 1000;
}

export function wireVessels(root = document) {
  const output = root.querySelector("output[data-left-to-assign]");
  if (!output) return;
  const form = output.closest("form");
  const juice = form.elements[output.dataset.volumeField];
  const update = () => {
    const volumes = [...form.querySelectorAll("[data-lot-volume]")].map((input) => input.value);
    const left = leftToAssign(juice.value, volumes);
    const chosen = form.querySelector(`input[name="${output.dataset.unitField}"]:checked`);
    output.textContent = left === null ? "" : `Left to assign: ${left} ${chosen ? chosen.value : "L"}`;
  };
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
}
