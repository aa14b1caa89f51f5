/** Call quality from getStats: warn when round-trip time > 400 ms, jitter > 30 ms or loss > 3 %,
 * and say so when no audio arrives at all (zero packets is not "0 % loss"). */

export const LIMITS = { rttMs: 400, jitterMs: 30, lossPercent: 3 };

/** The numbers that matter from one getStats report. */
export function sampleFromStats(report) {
  const sample = { rttMs: null, jitterMs: null, packetsLost: 0, packetsReceived: 0, bytesReceived: 0 };
  for (const s of report.values()) {
    if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded" && s.currentRoundTripTime !== undefined) {
      sample.rttMs = s.currentRoundTripTime * 1000;
    } else if (s.type === "inbound-rtp" && s.kind === "audio") {
      sample.jitterMs = (s.jitter ?? 0) * 1000;
      sample.packetsLost += s.packetsLost ?? 0;
      sample.packetsReceived += s.packetsReceived ?? 0;
      sample.bytesReceived += s.bytesReceived ?? 0;
    }
  }
  return sample;
}

/** Compares a sample with the previous one (loss counts only packets since then). Levels:
 * "good", "poor" (with problems) or "no_audio" (nothing received since the previous sample). */
export function assessQuality(sample, previous = null) {
  const lost = sample.packetsLost - (previous?.packetsLost ?? 0);
  const received = sample.packetsReceived - (previous?.packetsReceived ?? 0);
  if (received <= 0) return { level: "no_audio", problems: ["no audio arriving"], lossPercent: null };
  const lossPercent = lost + received > 0 ? (100 * Math.max(lost, 0)) / (lost + received) : 0;
  const problems = [];
  if (sample.rttMs !== null && sample.rttMs > LIMITS.rttMs) problems.push(`delay ${Math.round(sample.rttMs)} ms`);
  if (sample.jitterMs !== null && sample.jitterMs > LIMITS.jitterMs) problems.push(`jitter ${Math.round(sample.jitterMs)} ms`);
  if (lossPercent > LIMITS.lossPercent) problems.push(`loss ${lossPercent.toFixed(1)} %`);
  return { level: problems.length ? "poor" : "good", problems, lossPercent };
}
