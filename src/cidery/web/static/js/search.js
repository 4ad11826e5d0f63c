// The start page's grower list, narrowed as the operator types: a long list of growers
// is hard to scroll through with wet gloves. Without scripts the plain list is there.
export function wireGrowerSearch() {
  const box = document.getElementById("grower-search");
  const filter = document.getElementById("grower-filter");
  const select = document.getElementById("vendor_id");
  if (!box || !filter || !select) return;
  box.hidden = false;
  filter.addEventListener("input", () => {
    const wanted = filter.value.trim().toLocaleLowerCase();
    let first = null;
    for (const option of select.options) {
      if (!option.value) continue; // "Choose a grower"
      const shown = option.textContent.toLocaleLowerCase().includes(wanted);
      option.hidden = !shown;
      if (shown && first === null) first = option;
    }
    const chosen = select.selectedOptions[0];
    if (wanted && (!chosen || chosen.hidden || !chosen.value) && first) {
      select.value = first.value;
    }
  });
}
