/** Handles items one at a time, in arrival order: the next starts only after the previous
 * settled, so ICE candidates never race setRemoteDescription. */

export function serialQueue(handle, onError = (error) => console.error(error)) {
  let tail = Promise.resolve();
  return {
    push(item) {
      tail = tail.then(() => handle(item)).catch(onError);
      return tail;
    },
    get idle() {
      return tail;
    },
  };
}
