/** NumFree's REST API as the extension uses it: contacts, calls, ICE servers, me, and why the
 * signaling handshake was refused. */

import { SERVER_URL } from "../config.js";
import { ApiProblem, requestJson } from "./http.js";

/** A 401 with these codes means the access token is stale: refresh once and retry. */
const STALE_TOKEN = new Set(["token_expired", "token_invalid", "not_authenticated"]);

export function createApi({ tokens, serverUrl = SERVER_URL, fetchImpl = (...args) => globalThis.fetch(...args) }) {
  async function call(method, path, body) {
    const url = path.startsWith("http") ? path : `${serverUrl}${path}`;
    if (!url.startsWith(`${serverUrl}/`)) throw new ApiProblem("invalid", "Refusing to send the token elsewhere.");
    let token = await tokens.accessToken();
    try {
      return await requestJson(url, { method, body, token, fetchImpl });
    } catch (problem) {
      if (problem.status === 401 && problem.code === "token_revoked") {
        await tokens.signOutLocally(problem);
        throw problem;
      }
      if (problem.status !== 401 || !STALE_TOKEN.has(problem.code)) throw problem;
    }
    token = await tokens.accessToken({ forceRefresh: true });
    return requestJson(url, { method, body, token, fetchImpl });
  }

  return {
    call,
    me: () => call("GET", "/api/me/"),
    contacts: () => call("GET", "/api/contacts/"),
    addContact: (email) => call("POST", "/api/contacts/", { email }),
    acceptContact: (id) => call("POST", `/api/contacts/${encodeURIComponent(id)}/accept/`),
    removeContact: (id) => call("DELETE", `/api/contacts/${encodeURIComponent(id)}/`),
    calls: (next) => call("GET", next || "/api/calls/"),
    iceServers: () => call("GET", "/api/signaling/ice-servers/"),
  };
}

/** After a handshake that failed before opening: {code: "origin_not_allowed", message} when this
 * server refuses the extension's origin, null otherwise (including when it cannot be reached). */
export async function originRefusal({ serverUrl = SERVER_URL, extensionId, fetchImpl = (...args) => globalThis.fetch(...args) }) {
  try {
    await requestJson(`${serverUrl}/api/signaling/origin-check/`, { method: "POST", fetchImpl });
    return null;
  } catch (problem) {
    if (problem.code !== "origin_not_allowed") return null;
    const host = new URL(serverUrl).host;
    return {
      code: problem.code,
      message:
        `The NumFree server at ${host} does not accept this copy of NumFree Caller (extension id ${extensionId}). ` +
        "Its operator must add that id to NUMFREE_EXTENSION_IDS, or you need the build made for this server.",
    };
  }
}
