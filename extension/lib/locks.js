/** Mutual exclusion shared by every part of the extension (service worker, popup, call window). */

/** Web Locks are shared by all pages and workers of one extension origin; tests pass their own. */
export function sharedLock() {
  const locks = globalThis.navigator?.locks;
  if (locks) return (name, task) => locks.request(name, task);
  return processLock();
}

/** A lock that only serializes callers inside this JavaScript context. */
export function processLock() {
  const tails = new Map();
  return async (name, task) => {
    const previous = tails.get(name) || Promise.resolve();
    let release;
    const current = new Promise((resolve) => (release = resolve));
    const tail = previous.then(() => current);
    tails.set(name, tail);
    await previous;
    try {
      return await task();
    } finally {
      release();
      if (tails.get(name) === tail) tails.delete(name);
    }
  };
}
