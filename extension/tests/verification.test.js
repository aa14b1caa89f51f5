import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";

import { assessQuality, sampleFromStats } from "../lib/quality.js";
import { serialQueue } from "../lib/serial.js";
import { dtlsFromStats, normalizeFingerprint, shortCode } from "../lib/verification.js";

const A = normalizeFingerprint("SHA-256", "ab:cd:ef:01");
const B = normalizeFingerprint("sha-256", "12:34:56:78");

test("both sides compute the same six-digit code, whichever fingerprint is theirs", async () => {
  const code = await shortCode(A, B);
  assert.equal(code, await shortCode(B, A));
  assert.match(code, /^\d{3} \d{3}$/);
});

test("the code follows the documented derivation", async () => {
  const digest = createHash("sha256").update([A, B].sort().join("\n")).digest();
  const expected = String(digest.readUIntBE(0, 3) % 1_000_000).padStart(6, "0");
  assert.equal(await shortCode(A, B), `${expected.slice(0, 3)} ${expected.slice(3)}`);
});

test("a swapped fingerprint (a tampering server) changes the code", async () => {
  const tampered = normalizeFingerprint("sha-256", "12:34:56:79");
  assert.notEqual(await shortCode(A, B), await shortCode(A, tampered));
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
