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
