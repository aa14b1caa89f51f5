/** The short code both callers read aloud, with a hash commitment (as in ZRTP's SAS): the caller
 * commits to its fingerprint and a secret nonce before it sees the callee's, the callee answers
 * with its own nonce, then the caller reveals. A relay that swaps certificates must fix its
 * answer to the caller before it learns the caller's nonce, so the two codes match by chance
 * only (about 1 in a million), whatever its compute. docs/extension.md has the argument.
 *
 *   commitment = SHA-256("numfree-sas-commit-v1\n" + caller fingerprint + "\n" + caller nonce)
 *   code       = SHA-256("numfree-sas-v1\n" + caller fp + "\n" + callee fp + "\n" + caller nonce + "\n" + callee nonce),
 *                first 4 bytes as a big-endian number mod 1,000,000, shown as "123 456"
 *
 * Fingerprints are "<algorithm in lower case> <HEX:HEX:...>" upper-case; nonces 32 random bytes
 * as 64 lower-case hex digits. A peer that sent no commitment (or no nonce) gets "unverified",
 * never a code. */

export const NONCE_HEX = /^[0-9a-f]{64}$/;
/** After DTLS is up, how long the callee waits for the caller's reveal before saying "unverified". */
export const REVEAL_TIMEOUT_MS = 10_000;

export function normalizeFingerprint(algorithm, value) {
  return `${String(algorithm).trim().toLowerCase()} ${String(value).trim().toUpperCase()}`;
}

/** Every DTLS fingerprint an SDP announces (a=fingerprint lines), normalized. */
export function fingerprintsFromSdp(sdp) {
  const found = new Set();
  for (const match of String(sdp || "").matchAll(/^a=fingerprint:(\S+) (\S+)\s*$/gm)) {
    found.add(normalizeFingerprint(match[1], match[2]));
  }
  return [...found];
}

function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function sha256(text) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

export function randomNonce(randomBytes = (n) => crypto.getRandomValues(new Uint8Array(n))) {
  return toHex(randomBytes(32));
}

export async function commitment(fingerprint, nonce) {
  return toHex(await sha256(`numfree-sas-commit-v1\n${fingerprint}\n${nonce}`));
}

export async function sasDigest({ callerFingerprint, calleeFingerprint, callerNonce, calleeNonce }) {
  return sha256(`numfree-sas-v1\n${callerFingerprint}\n${calleeFingerprint}\n${callerNonce}\n${calleeNonce}`);
}

/** The code from the digest: six digits "123 456", or (`bits`, for tests) the first `bits` bits as a number. */
export function codeFromDigest(digest, { bits = null } = {}) {
  const first = ((digest[0] << 24) | (digest[1] << 16) | (digest[2] << 8) | digest[3]) >>> 0;
  if (bits !== null) return String(Math.floor(first / 2 ** (32 - bits)));
  const digits = String(first % 1_000_000).padStart(6, "0");
  return `${digits.slice(0, 3)} ${digits.slice(3)}`;
}

/**
 * One call's side of the protocol. The call window feeds it what it sends and receives, then
 * asks `result(dtls)` with the fingerprints DTLS actually used (getStats), which answers
 * {status: "pending" | "verified" | "unverified" | "failed", code?, reason?}.
 */
export function createVerifier({ role, randomBytes, bits = null }) {
  const mine = randomNonce(randomBytes);
  let theirNonce = null; // callee: the caller's revealed nonce; caller: the callee's nonce
  let theirCommitment = null; // callee only
  let answerFingerprints = null; // caller only: the fingerprints of the answer it revealed against
  let locked = null; // {remote, code} once a code was shown
  let failure = null;

  return {
    /** Caller: the field for call.invite, given its own fingerprint (from its offer). */
    async inviteFields(localFingerprint) {
      return { sas_commitment: await commitment(localFingerprint, mine) };
    },
    /** Callee: remembers the caller's commitment (absent from an old client). */
    onInvite(frame) {
      theirCommitment = typeof frame.sas_commitment === "string" && NONCE_HEX.test(frame.sas_commitment) ? frame.sas_commitment : null;
    },
    /** Callee: the field for call.answer (sent even to an old caller: it ignores it). */
    answerFields() {
      return { sas_nonce: mine };
    },
    /** Caller: the answer arrived. Returns the reveal frame to send, or null (an old callee). */
    onAnswer(frame) {
      if (theirNonce !== null || answerFingerprints !== null) return null; // one answer per call
      answerFingerprints = fingerprintsFromSdp(frame.sdp);
      if (typeof frame.sas_nonce !== "string" || !NONCE_HEX.test(frame.sas_nonce)) return null;
      theirNonce = frame.sas_nonce;
      return { type: "call.sas_reveal", sas_nonce: mine };
    },
    /** Callee: the caller's nonce; only the first counts. */
    onReveal(frame) {
      if (role === "callee" && theirNonce === null && NONCE_HEX.test(String(frame.sas_nonce))) theirNonce = frame.sas_nonce;
    },
    get hasPeerContribution() {
      return role === "caller" ? theirNonce !== null : theirCommitment !== null;
    },
    async result(dtls, { revealOverdue = false } = {}) {
      if (failure) return failure;
      if (locked) {
        if (dtls && dtls.remote !== locked.remote) {
          failure = { status: "failed", reason: "certificate_changed" };
          return failure;
        }
        return { status: "verified", code: locked.code };
      }
      if (role === "caller" && answerFingerprints === null) return { status: "pending" };
      if (role === "caller" && theirNonce === null) return { status: "unverified", reason: "peer_without_commitment" };
      if (role === "callee" && theirCommitment === null) return { status: "unverified", reason: "peer_without_commitment" };
      if (!dtls) return { status: "pending" };
      if (role === "callee" && theirNonce === null) {
        return revealOverdue ? { status: "unverified", reason: "reveal_missing" } : { status: "pending" };
      }
      let inputs;
      if (role === "caller") {
        // The certificate must be the one in the answer this side revealed its nonce for.
        if (!answerFingerprints.includes(dtls.remote)) return (failure = { status: "failed", reason: "certificate_mismatch" });
        inputs = { callerFingerprint: dtls.local, calleeFingerprint: dtls.remote, callerNonce: mine, calleeNonce: theirNonce };
      } else {
        // The caller's certificate and nonce must be the ones it committed to before seeing ours.
        if ((await commitment(dtls.remote, theirNonce)) !== theirCommitment) {
          return (failure = { status: "failed", reason: "commitment_mismatch" });
        }
        inputs = { callerFingerprint: dtls.remote, calleeFingerprint: dtls.local, callerNonce: theirNonce, calleeNonce: mine };
      }
      locked = { remote: dtls.remote, code: codeFromDigest(await sasDigest(inputs), { bits }) };
      return { status: "verified", code: locked.code };
    },
  };
}

/** The fingerprints DTLS actually used, from getStats: {local, remote, dtlsState} (or null).
 * Chromium does not always report the peer's certificate (the transport has no
 * remoteCertificateId on some handshakes); then the fingerprint of the current remote
 * description stands in: a connected DTLS transport has checked the peer's certificate against
 * exactly that fingerprint. The same for our own side with the local description. */
export function dtlsFromStats(report, { localSdp = "", remoteSdp = "" } = {}) {
  const stats = [...report.values()];
  const transport = stats.find((s) => s.type === "transport" && s.dtlsState);
  if (!transport) return null;
  const fingerprintOf = (certificateId, sdp) => {
    const certificate = certificateId ? report.get(certificateId) : null;
    if (certificate) return normalizeFingerprint(certificate.fingerprintAlgorithm, certificate.fingerprint);
    const announced = fingerprintsFromSdp(sdp);
    return announced.length === 1 ? announced[0] : null;
  };
  const local = fingerprintOf(transport.localCertificateId, localSdp);
  const remote = fingerprintOf(transport.remoteCertificateId, remoteSdp);
  if (!local || !remote) return null;
  return { local, remote, dtlsState: transport.dtlsState, selectedCandidatePairId: transport.selectedCandidatePairId };
}
