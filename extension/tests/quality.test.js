import assert from "node:assert/strict";
import { test } from "node:test";

import { assessQuality, sampleFromStats } from "../lib/quality.js";

const stats = (received, lost = 0, bytes = received * 100) =>
  new Map([
    ["p", { type: "candidate-pair", nominated: true, state: "succeeded", currentRoundTripTime: 0.02 }],
    ["i", { type: "inbound-rtp", kind: "audio", jitter: 0.002, packetsLost: lost, packetsReceived: received, bytesReceived: bytes }],
  ]);

test("a connection that has received no audio packets is not a good connection", () => {
  const quality = assessQuality(sampleFromStats(stats(0)));
  assert.equal(quality.level, "no_audio");
});

test("audio that stops arriving mid-call is noticed at the next sample", () => {
  const flowing = sampleFromStats(stats(500));
  assert.equal(assessQuality(flowing, sampleFromStats(stats(400))).level, "good");
  assert.equal(assessQuality(sampleFromStats(stats(500)), flowing).level, "no_audio");
});

test("only lost packets since the previous sample is no audio, not a loss percentage", () => {
  const before = sampleFromStats(stats(500, 0));
  assert.equal(assessQuality(sampleFromStats(stats(500, 40)), before).level, "no_audio");
});
