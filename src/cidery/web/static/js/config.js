// The figures the server states once and hands to the page as JSON: the unit factors
// (cidery.units), the yield guardrail (cidery.press.rules) and the refusal messages
// (cidery.web.messages). Nothing here re-types them.
const element = document.getElementById("cidery-config");

export const config = element
  ? JSON.parse(element.textContent)
  : { units: {}, yield: {}, messages: {} };
