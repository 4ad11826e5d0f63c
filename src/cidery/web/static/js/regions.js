// Parts of the page replaced in place, by id, with what the server now renders: after
// queued loads are sent, a page shows their totals without a reload.

// Returns the fresh page, or null when there was no answer (the page keeps what it shows).
export async function refreshRegions(ids) {
  let answer;
  try {
    answer = await fetch(location.pathname, { credentials: "same-origin" });
  } catch {
    return null; // the connection dropped again
  }
  if (!answer.ok) return null;
  const fresh = new DOMParser().parseFromString(await answer.text(), "text/html");
  for (const id of ids) {
    const replacement = fresh.getElementById(id);
    const current = document.getElementById(id);
    if (replacement && current) current.replaceWith(document.adoptNode(replacement));
  }
  return fresh;
}
