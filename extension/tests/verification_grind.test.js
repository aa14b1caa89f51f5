/** A relay that substitutes certificates and grinds them, against the code cut to 12 bits (4,096
 * values, so the grind is quick): it always wins against the scheme without a commitment
 * (extension at b609c32) and wins only at the chance rate, 1 in 4,096, against the committed
 * scheme. Randomness is seeded, so the counts are the same on every run. */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";

import { codeFromDigest, createVerifier, normalizeFingerprint } from "../lib/verification.js";

const BITS = 12;
const sha = (text) => createHash("sha256").update(text).digest();

/** Deterministic bytes: SHA-256 in counter mode over a seed. */
function seededBytes(seed) {
  let counter = 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 32) out.set(sha(`${seed}:${counter++}`).subarray(0, Math.min(32, n - i)), i);
    return out;
  };
}

/** A fresh self-signed certificate's fingerprint, as the relay can make as many as it likes. */
function certificate(random) {
  const hex = Array.from(random(32), (b) => b.toString(16).padStart(2, "0").toUpperCase());
  return normalizeFingerprint("sha-256", hex.join(":"));
}

/** The scheme at b609c32: SHA-256 of the two sorted fingerprints, no commitment, cut to BITS bits. */
function oldCode(fpA, fpB) {
  return codeFromDigest(sha([fpA, fpB].sort().join("\n")), { bits: BITS });
}

const sdpWith = (fp) => `v=0\r\na=fingerprint:${fp}\r\n`;

test("against the old scheme, a relay that grinds certificates makes the two codes match in every call", () => {
  const random = seededBytes("old-scheme");
  const tries = [];
  for (let call = 0; call < 20; call++) {
    const alice = certificate(random);
    const bob = certificate(random);
    const relayToBob = certificate(random); // the relay's certificate on Bob's leg, sent in the invite
    const bobsCode = oldCode(relayToBob, bob); // known to the relay as soon as Bob answers
    let n = 0;
    let relayToAlice;
    do {
      relayToAlice = certificate(random);
      n += 1;
    } while (oldCode(alice, relayToAlice) !== bobsCode && n < 200_000);
    assert.equal(oldCode(alice, relayToAlice), bobsCode, `call ${call}: the grind found a match`);
    tries.push(n);
  }
  const mean = tries.reduce((a, b) => a + b, 0) / tries.length;
  // About 2^12 certificates per call: a 20-bit code would need about 2^20, seconds of compute.
  assert.ok(mean > 1_000 && mean < 16_000, `mean tries ${mean}`);
});

/**
 * One call with the relay in the middle of the committed scheme. It replaces the caller's
 * commitment by its own (it must, or Bob's check of the commitment fails), learns Bob's code
 * when Bob answers, and then grinds its certificate and nonce towards Alice for up to `grind`
 * tries so that the code it predicts for Alice matches. It has to send that answer before
 * Alice reveals her nonce, so its prediction uses a guess of her nonce.
 */
async function relayedCall(random, grind) {
  const aliceCert = certificate(random);
  const bobCert = certificate(random);
  const alice = createVerifier({ role: "caller", randomBytes: random, bits: BITS });
  const bob = createVerifier({ role: "callee", randomBytes: random, bits: BITS });
  const relayAsCaller = createVerifier({ role: "caller", randomBytes: random, bits: BITS }); // towards Bob
  const relayCertToBob = certificate(random);

  await alice.inviteFields(aliceCert); // the relay sees only this hash
  bob.onInvite(await relayAsCaller.inviteFields(relayCertToBob));
  const bobsAnswer = { sdp: sdpWith(bobCert), ...bob.answerFields() };
  bob.onReveal(relayAsCaller.onAnswer(bobsAnswer));
  const bobsResult = await bob.result({ local: bobCert, remote: relayCertToBob });
  assert.equal(bobsResult.status, "verified", "Bob accepts the relay's own commitment: it is well formed");

  let best = null;
  for (let n = 0; n < grind; n++) {
    const candidate = { cert: certificate(random), nonce: Buffer.from(random(32)).toString("hex") };
    const guessedAliceNonce = Buffer.from(random(32)).toString("hex");
    const predicted = codeFromDigest(sha(`numfree-sas-v1\n${aliceCert}\n${candidate.cert}\n${guessedAliceNonce}\n${candidate.nonce}`), { bits: BITS });
    best = candidate;
    if (predicted === bobsResult.code) break;
  }
  const reveal = alice.onAnswer({ sdp: sdpWith(best.cert), sas_nonce: best.nonce });
  assert.ok(reveal, "Alice reveals only now, after the relay's answer is fixed");
  const alicesResult = await alice.result({ local: aliceCert, remote: best.cert });
  return alicesResult.code === bobsResult.code;
}

test("with commitments, the same grind no longer helps: codes match in about 1 call in 4,096", async () => {
  const random = seededBytes("committed-scheme");
  // The full grind (until the relay's own prediction matches) wins nothing in 20 calls,
  // where it won all 20 above.
  let fullGrindWins = 0;
  for (let call = 0; call < 20; call++) if (await relayedCall(random, 200_000)) fullGrindWins += 1;
  assert.equal(fullGrindWins, 0);
  // The chance rate, measured over many calls (grinding cannot change it, so none here).
  const calls = 8_192;
  let wins = 0;
  for (let call = 0; call < calls; call++) if (await relayedCall(random, 1)) wins += 1;
  // Expected 2 (8,192 / 4,096); Poisson(2) exceeds 10 with probability below 1e-5.
  assert.ok(wins <= 10, `relay won ${wins} of ${calls} calls`);
  console.log(`# relay matched the codes in ${wins} of ${calls} committed calls (chance: ${calls / 4096})`);
});
