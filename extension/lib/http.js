/** JSON requests to NumFree's API, turning every failure into an ApiProblem {code, message}.
 * Every request has a deadline: a server that accepts the connection and never answers is
 * "server_unreachable" after REQUEST_TIMEOUT_MS, not a spinner forever. */

export const REQUEST_TIMEOUT_MS = 15_000;

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
  server_timeout: "NumFree did not answer in time. Try again in a moment.",
  invalid_credentials: "Wrong email or password.",
  email_unverified: "Confirm your email address first: open the link we emailed you, then sign in.",
  account_disabled: "This account is disabled.",
  two_factor_required: "Enter the 6-digit code from your authenticator app, or one of your recovery codes.",
  two_factor_invalid: "That code did not work (wrong, expired or already used). Enter the code your app shows now.",
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
export async function requestJson(
  url,
  { method = "GET", body, token, fetchImpl = globalThis.fetch, timeoutMs = REQUEST_TIMEOUT_MS, timers = globalThis } = {},
) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const abort = new AbortController();
  let timedOut = false;
  const timer = timers.setTimeout(() => {
    timedOut = true;
    abort.abort();
  }, timeoutMs);
  const deadline = new Promise((_, reject) => abort.signal.addEventListener("abort", () => reject(new Error("timeout"))));
  let response;
  try {
    response = await Promise.race([
      fetchImpl(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
        signal: abort.signal,
      }),
      deadline,
    ]);
  } catch {
    timers.clearTimeout(timer);
    if (timedOut) throw new ApiProblem("server_timeout", FRIENDLY.server_timeout);
    throw new ApiProblem("server_unreachable", FRIENDLY.server_unreachable);
  }
  let data = null;
  if (response.status !== 204) {
    try {
      data = await Promise.race([response.json(), deadline]);
    } catch {
      data = null;
    }
  }
  timers.clearTimeout(timer);
  if (timedOut) throw new ApiProblem("server_timeout", FRIENDLY.server_timeout);
  if (response.ok) return data;
  const retryAfter = Number(response.headers?.get?.("Retry-After")) || null;
  const code = data && typeof data.code === "string" ? data.code : response.status >= 500 ? "server_error" : "invalid";
  const message = (data && data.message) || FRIENDLY[code] || `NumFree answered ${response.status}.`;
  throw new ApiProblem(code, message, { status: response.status, retryAfter });
}
