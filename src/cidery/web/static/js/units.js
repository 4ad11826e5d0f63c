// Unit conversions with the server's factors, for the live previews only: the server
// converts what is saved.
import { config } from "./config.js";

const KG_PER_LB = Number(config.units.kg_per_lb);
const L_PER_GAL = Number(config.units.l_per_gal);
const DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;

// A positive amount as typed ("385.5"), or null: the same digits the server accepts.
export function parseAmount(text) {
  const trimmed = String(text ?? "").trim();
  if (!DECIMAL.test(trimmed)) return null;
  const value = Number(trimmed);
  return Number.isFinite(value) && value > 0 ? value : null;
}

// A weight of nothing or more as typed (a tare may be 0), or null.
function parseTare(text) {
  const trimmed = String(text ?? "").trim();
  return DECIMAL.test(trimmed) ? Number(trimmed) : null;
}

// The load's weight as entered: the net weight, or gross less tare when a weigh tag is
// given instead (to the gram, as the server keeps it); null when neither is a weight.
export function netWeight(weight, gross, tare) {
  if (String(weight ?? "").trim()) return parseAmount(weight);
  const full = parseAmount(gross);
  const empty = parseTare(tare);
  if (full === null || empty === null || empty >= full) return null;
  return Number((full - empty).toFixed(3));
}

export function toKg(value, unit) {
  return unit === "lb" ? value * KG_PER_LB : value;
}

export function kgToLb(kg) {
  return kg / KG_PER_LB;
}

export function toLitres(value, unit) {
  return unit === "gal" ? value * L_PER_GAL : value;
}

export function litresToGal(litres) {
  return litres / L_PER_GAL;
}
