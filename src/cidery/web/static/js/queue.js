// The loads saved while the page had no connection, kept in the browser's IndexedDB so
// they outlive a reload and a browser restart. Each entry is one load as it will be
// sent: { id, user, run, url, body, key, at, variety, refused }. The ids grow with each
// entry, so reading them back in id order is the order they were saved in.

const NAME = "cidery";
const STORE = "loads";

let opened = null;

function database() {
  opened ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(NAME, 1);
    request.onupgradeneeded = () => {
      request.result.createObjectStore(STORE, { keyPath: "id", autoIncrement: true });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  }).catch((error) => {
    opened = null;
    throw error;
  });
  return opened;
}

// One transaction over the store; resolves with what `work` asked for once it is written.
async function within(mode, work) {
  const db = await database();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const request = work(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(request.result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

// The signed-in person's entries, oldest first (another person's stay hidden).
export async function entriesOf(user) {
  const all = await within("readonly", (store) => store.getAll());
  return all.filter((entry) => entry.user === user);
}

export function add(entry) {
  return within("readwrite", (store) => store.add(entry));
}

export function put(entry) {
  return within("readwrite", (store) => store.put(entry));
}

export function remove(id) {
  return within("readwrite", (store) => store.delete(id));
}
