// The online/offline indicator in the page's header.
export function showConnection(element = document.getElementById("connection")) {
  if (!element) return;
  const update = () => {
    const online = navigator.onLine;
    element.dataset.state = online ? "online" : "offline";
    element.textContent = online ? "Online" : "Offline";
  };
  window.addEventListener("online", update);
  window.addEventListener("offline", update);
  update();
}
