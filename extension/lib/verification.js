/** The short code both callers read aloud: derived from the two DTLS certificate fingerprints,
 * so a server that swapped fingerprints in the relayed SDP would show two different codes.
 *
 * code = first 24 bits of SHA-256(sorted([fpA, fpB]).join("\n")), as a number mod 1,000,000,
 * shown as six digits "123 456"; each fingerprint is "<algorithm> <HEX:HEX:...>" upper-case. */

export function normalizeFingerprint(algorithm, value) {
  return `${String(algorithm).trim().toLowerCase()} ${String(value).trim().toUpperCase()}`;
}

export async function shortCode(fingerprintA, fingerprintB) {
  const text = [fingerprintA, fingerprintB].sort().join("\n");
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  const value = ((digest[0] << 16) | (digest[1] << 8) | digest[2]) % 1_000_000;
  const digits = String(value).padStart(6, "0");
  return `${digits.slice(0, 3)} ${digits.slice(3)}`;
}

/** The fingerprints DTLS actually used, from getStats: {local, remote, dtlsState} (or null). */
export function dtlsFromStats(report) {
  const stats = [...report.values()];
  const transport = stats.find((s) => s.type === "transport" && s.localCertificateId && s.remoteCertificateId);
  if (!transport) return null;
  const local = report.get(transport.localCertificateId);
  const remote = report.get(transport.remoteCertificateId);
  if (!local || !remote) return null;
  return {
    local: normalizeFingerprint(local.fingerprintAlgorithm, local.fingerprint),
    remote: normalizeFingerprint(remote.fingerprintAlgorithm, remote.fingerprint),
    dtlsState: transport.dtlsState,
    selectedCandidatePairId: transport.selectedCandidatePairId,
  };
}
