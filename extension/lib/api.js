/** NumFree's REST API as the extension uses it: contacts, calls, ICE servers, me. */

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
