/** JSON requests to NumFree's API, turning every failure into an ApiProblem {code, message}. */

/** An error answer from NumFree (or our own "server_unreachable"), ready to show to the user. */
export class ApiProblem extends Error {
  constructor(code, message, { status = 0, retryAfter = null } = {}) {
    super(message);
    this.name = "ApiProblem";
    this.code = code;
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

const FRIENDLY = {
  server_unreachable: "Can't reach NumFree. Check your connection and try again.",
  invalid_credentials: "Wrong email or password.",
  email_unverified: "Confirm your email address first: open the link we emailed you, then sign in.",
  account_disabled: "This account is disabled.",
  token_revoked: "You were signed out (signed out elsewhere, password changed, or the sign-in was ended). Sign in again.",
  not_signed_in: "Sign in first.",
  server_error: "Something went wrong at NumFree. Try again in a moment.",
};

/** The sentence the popup shows for a problem. */
export function friendlyMessage(problem) {
  if (problem.code === "rate_limited") {
    const wait = problem.retryAfter ? ` Try again in ${problem.retryAfter} s.` : " Try again shortly.";
    return "Too many attempts." + wait;
  }
  return FRIENDLY[problem.code] || problem.message || "Something went wrong.";
}

/** Sends a JSON request and returns the parsed answer (null for 204). */
export async function requestJson(url, { method = "GET", body, token, fetchImpl = globalThis.fetch } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetchImpl(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    throw new ApiProblem("server_unreachable", FRIENDLY.server_unreachable);
  }
  let data = null;
  if (response.status !== 204) {
    try {
      data = await response.json();
    } catch {
      data = null;
    }
  }
  if (response.ok) return data;
  const retryAfter = Number(response.headers?.get?.("Retry-After")) || null;
  const code = data && typeof data.code === "string" ? data.code : response.status >= 500 ? "server_error" : "invalid";
  const message = (data && data.message) || FRIENDLY[code] || `NumFree answered ${response.status}.`;
  throw new ApiProblem(code, message, { status: response.status, retryAfter });
}
