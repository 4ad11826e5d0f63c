// The online/offline indicator in the page's header (the count of waiting loads beside
// it is the outbox's).
export function showConnection(element = document.getElementById("connection")) {
  if (!element) return;
  const network = element.querySelector("#network") ?? element;
  const update = () => {
    const online = navigator.onLine;
    element.dataset.state = online ? "online" : "offline";
    network.textContent = online ? "Online" : "Offline";
  };
  window.addEventListener("online", update);
  window.addEventListener("offline", update);
  update();
}
