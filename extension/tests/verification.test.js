import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";

import { assessQuality, sampleFromStats } from "../lib/quality.js";
import { serialQueue } from "../lib/serial.js";
import { codeFromDigest, commitment, createVerifier, dtlsFromStats, fingerprintsFromSdp, normalizeFingerprint, sasDigest } from "../lib/verification.js";

const A = normalizeFingerprint("SHA-256", "ab:cd:ef:01");
const B = normalizeFingerprint("sha-256", "12:34:56:78");
const sdpWith = (fp) => `v=0\r\na=fingerprint:${fp.split(" ")[0]} ${fp.split(" ")[1]}\r\n`;

/** Runs the protocol between two verifiers over an honest relay; returns both results. */
async function honestCall({ stripCommitment = false, stripNonce = false, withReveal = true } = {}) {
  const caller = createVerifier({ role: "caller" });
  const callee = createVerifier({ role: "callee" });
  const invite = await caller.inviteFields(A);
  callee.onInvite(stripCommitment ? {} : invite);
  const answer = { sdp: sdpWith(B), ...(stripNonce ? {} : callee.answerFields()) };
  const reveal = caller.onAnswer(answer);
  if (reveal && withReveal) callee.onReveal(reveal);
  return {
    caller: await caller.result({ local: A, remote: B }),
    callee: await callee.result({ local: B, remote: A }),
    reveal,
  };
}

test("both sides of an honest call show the same six-digit code", async () => {
  const { caller, callee } = await honestCall();
  assert.equal(caller.status, "verified");
  assert.match(caller.code, /^\d{3} \d{3}$/);
  assert.deepEqual(callee, caller);
});

test("the code and the commitment follow the documented derivation", async () => {
  const nonceA = "a".repeat(64);
  const nonceB = "b".repeat(64);
  const commit = createHash("sha256").update(`numfree-sas-commit-v1\n${A}\n${nonceA}`).digest("hex");
  assert.equal(await commitment(A, nonceA), commit);
  const digest = createHash("sha256").update(`numfree-sas-v1\n${A}\n${B}\n${nonceA}\n${nonceB}`).digest();
  const expected = String(digest.readUInt32BE(0) % 1_000_000).padStart(6, "0");
  const ours = await sasDigest({ callerFingerprint: A, calleeFingerprint: B, callerNonce: nonceA, calleeNonce: nonceB });
  assert.equal(codeFromDigest(ours), `${expected.slice(0, 3)} ${expected.slice(3)}`);
  assert.equal(codeFromDigest(ours, { bits: 12 }), String(digest.readUInt32BE(0) >>> 20));
});

test("a caller whose peer sent no nonce says not verified, never a code", async () => {
  const { caller, reveal } = await honestCall({ stripNonce: true });
  assert.deepEqual(caller, { status: "unverified", reason: "peer_without_commitment" });
  assert.equal(reveal, null);
});

test("a callee whose invite had no commitment says not verified, never a code", async () => {
  const { callee } = await honestCall({ stripCommitment: true });
  assert.deepEqual(callee, { status: "unverified", reason: "peer_without_commitment" });
});

test("a callee waits for the reveal, then says not verified if it never comes", async () => {
  const caller = createVerifier({ role: "caller" });
  const callee = createVerifier({ role: "callee" });
  callee.onInvite(await caller.inviteFields(A));
  caller.onAnswer({ sdp: sdpWith(B), ...callee.answerFields() });
  assert.deepEqual(await callee.result({ local: B, remote: A }), { status: "pending" });
  assert.deepEqual(await callee.result({ local: B, remote: A }, { revealOverdue: true }), { status: "unverified", reason: "reveal_missing" });
});

test("a callee whose DTLS peer is not the certificate the caller committed to says verification failed", async () => {
  const caller = createVerifier({ role: "caller" });
  const callee = createVerifier({ role: "callee" });
  callee.onInvite(await caller.inviteFields(A));
  callee.onReveal(caller.onAnswer({ sdp: sdpWith(B), ...callee.answerFields() }));
  const other = normalizeFingerprint("sha-256", "66:66");
  assert.deepEqual(await callee.result({ local: B, remote: other }), { status: "failed", reason: "commitment_mismatch" });
});

test("a caller whose DTLS peer is not the certificate of the answer it revealed for says verification failed", async () => {
  const caller = createVerifier({ role: "caller" });
  const callee = createVerifier({ role: "callee" });
  callee.onInvite(await caller.inviteFields(A));
  caller.onAnswer({ sdp: sdpWith(B), ...callee.answerFields() });
  const swappedLater = normalizeFingerprint("sha-256", "77:77");
  assert.deepEqual(await caller.result({ local: A, remote: swappedLater }), { status: "failed", reason: "certificate_mismatch" });
});

test("a certificate that changes after the code was shown turns it into verification failed", async () => {
  const caller = createVerifier({ role: "caller" });
  const callee = createVerifier({ role: "callee" });
  callee.onInvite(await caller.inviteFields(A));
  callee.onReveal(caller.onAnswer({ sdp: sdpWith(B), ...callee.answerFields() }));
  assert.equal((await callee.result({ local: B, remote: A })).status, "verified");
  const renegotiated = normalizeFingerprint("sha-256", "88:88");
  assert.deepEqual(await callee.result({ local: B, remote: renegotiated }), { status: "failed", reason: "certificate_changed" });
  assert.deepEqual(await callee.result({ local: B, remote: A }), { status: "failed", reason: "certificate_changed" });
});

test("only the first answer counts: a second one cannot change what the caller revealed for", async () => {
  const caller = createVerifier({ role: "caller" });
  caller.onAnswer({ sdp: sdpWith(B), sas_nonce: "c".repeat(64) });
  assert.equal(caller.onAnswer({ sdp: sdpWith(A), sas_nonce: "d".repeat(64) }), null);
  assert.equal((await caller.result({ local: A, remote: A })).status, "failed");
});

test("fingerprints are read from every a=fingerprint line of an SDP", () => {
  const sdp = "v=0\r\na=fingerprint:SHA-256 ab:cd\r\nm=audio 9\r\na=fingerprint:sha-256 AB:CD\r\na=fingerprint:sha-1 01:02\r\n";
  assert.deepEqual(fingerprintsFromSdp(sdp), ["sha-256 AB:CD", "sha-1 01:02"]);
});

test("fingerprints come from the certificates DTLS actually used", () => {
  const report = new Map([
    ["T", { type: "transport", localCertificateId: "L", remoteCertificateId: "R", dtlsState: "connected" }],
    ["L", { type: "certificate", fingerprintAlgorithm: "sha-256", fingerprint: "aa:bb" }],
    ["R", { type: "certificate", fingerprintAlgorithm: "sha-256", fingerprint: "cc:dd" }],
  ]);
  assert.deepEqual(dtlsFromStats(report), {
    local: "sha-256 AA:BB",
    remote: "sha-256 CC:DD",
    dtlsState: "connected",
    selectedCandidatePairId: undefined,
  });
});

test("when Chromium reports no peer certificate, the connected transport's remote description stands in", () => {
  const report = new Map([
    ["T", { type: "transport", localCertificateId: "L", dtlsState: "connected" }],
    ["L", { type: "certificate", fingerprintAlgorithm: "sha-256", fingerprint: "aa:bb" }],
  ]);
  assert.equal(dtlsFromStats(report), null);
  const facts = dtlsFromStats(report, { remoteSdp: "v=0\r\na=fingerprint:sha-256 cc:dd\r\n" });
  assert.deepEqual([facts.local, facts.remote], ["sha-256 AA:BB", "sha-256 CC:DD"]);
});

test("quality warns above 400 ms round trip, 30 ms jitter or 3 % loss", () => {
  const stats = (rtt, jitter, lost, received) =>
    new Map([
      ["p", { type: "candidate-pair", nominated: true, state: "succeeded", currentRoundTripTime: rtt }],
      ["i", { type: "inbound-rtp", kind: "audio", jitter, packetsLost: lost, packetsReceived: received, bytesReceived: 1 }],
    ]);
  assert.equal(assessQuality(sampleFromStats(stats(0.05, 0.005, 0, 1000))).level, "good");
  assert.deepEqual(assessQuality(sampleFromStats(stats(0.45, 0.005, 0, 1000))).problems, ["delay 450 ms"]);
  assert.deepEqual(assessQuality(sampleFromStats(stats(0.05, 0.04, 0, 1000))).problems, ["jitter 40 ms"]);
  const before = sampleFromStats(stats(0.05, 0.005, 0, 1000));
  const after = sampleFromStats(stats(0.05, 0.005, 5, 1100));
  assert.equal(assessQuality(after, before).level, "poor");
  assert.equal(assessQuality(sampleFromStats(stats(0.05, 0.005, 3, 1100)), sampleFromStats(stats(0.05, 0.005, 0, 1000))).level, "good");
});

test("frames are handled one at a time, in order, even when a handler is slow or fails", async () => {
  const log = [];
  const queue = serialQueue(
    async (item) => {
      log.push(`start ${item}`);
      await new Promise((resolve) => setTimeout(resolve, item === "offer" ? 20 : 1));
      if (item === "bad") throw new Error("bad");
      log.push(`end ${item}`);
    },
    () => log.push("error"),
  );
  for (const item of ["offer", "candidate", "bad", "candidate2"]) queue.push(item);
  await queue.idle;
  assert.deepEqual(log, ["start offer", "end offer", "start candidate", "end candidate", "start bad", "error", "start candidate2", "end candidate2"]);
});
