/** Where the extension's server lives; the dev build rewrites SERVER_URL. */

export const SERVER_URL = "https://numfree.com";

/** The WebSocket URL of the signaling endpoint, on the same host as the API. */
export function signalingUrl(serverUrl = SERVER_URL) {
  return serverUrl.replace(/^http/, "ws") + "/ws/signaling/";
}
