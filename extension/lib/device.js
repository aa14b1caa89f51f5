/** The install's device id: random, generated once, kept in chrome.storage.local across sign-outs. */

const DEVICE_KEY = "device_id";
const DEVICE_ID = /^[A-Za-z0-9._~-]{8,64}$/;

export function randomId(bytes = 16) {
  const raw = new Uint8Array(bytes);
  crypto.getRandomValues(raw);
  return Array.from(raw, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Returns the stored device id, creating it on first use. */
export async function deviceId(storage) {
  const stored = (await storage.get(DEVICE_KEY))[DEVICE_KEY];
  if (typeof stored === "string" && DEVICE_ID.test(stored)) return stored;
  const created = `ext-${randomId(12)}`;
  await storage.set({ [DEVICE_KEY]: created });
  return created;
}

/** Sign-out: everything in local storage goes, except the install's random device id. */
export async function clearAccountData(storage) {
  const kept = (await storage.get(DEVICE_KEY))[DEVICE_KEY];
  await storage.clear();
  if (kept) await storage.set({ [DEVICE_KEY]: kept });
}
