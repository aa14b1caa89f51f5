/** The call window: microphone, RTCPeerConnection, trickle ICE, mute, hang up, duration,
 * quality, ICE restarts (lib/icerecovery.js), and the short verification code with its commitment
 * (lib/verification.js). Frames from the service worker and our own steps run one at a time
 * through a promise chain. */

import { SERVER_URL } from "../config.js";
import { createApi } from "../lib/api.js";
import { durationSeconds, endTone, formatDuration, initialState, microphoneProblem, transition } from "../lib/callstate.js";
import { createIceRecovery } from "../lib/icerecovery.js";
import { callKey } from "../lib/incoming.js";
import { assessQuality, sampleFromStats } from "../lib/quality.js";
import { serialQueue } from "../lib/serial.js";
import { createTokenStore } from "../lib/tokens.js";
import { REVEAL_TIMEOUT_MS, createVerifier, dtlsFromStats, fingerprintsFromSdp } from "../lib/verification.js";

const INVITE_TIMEOUT_MS = 65_000;
const STATS_INTERVAL_MS = 2_000;
const CANDIDATE_BATCH_MS = 50;
const MAX_CANDIDATES_PER_FRAME = 50;

const api = createApi({ tokens: createTokenStore({ storage: chrome.storage.local, serverUrl: SERVER_URL }), serverUrl: SERVER_URL });
const $ = (id) => document.getElementById(id);
const callId = new URLSearchParams(location.search).get("call_id") || "";
const record = (await chrome.storage.session.get(callKey(callId)))[callKey(callId)] || null;

let state = initialState({ role: record?.role || "caller", peer: record?.peer || "" });
let port = null;
let pc = null;
let localStream = null;
let verificationCode = null;
let verification = { status: "pending" };
let dtlsConnectedAt = null;
const verifier = createVerifier({ role: state.role });
if (state.role === "callee" && record) verifier.onInvite(record);
let previousSample = null;
const timers = { invite: null, stats: null, ticker: null, candidates: null };
const recovery = createIceRecovery({
  // The caller restarts (one side only, so the two never offer at once); the callee answers.
  canRestart: () => state.role === "caller" && pc !== null && state.phase !== "ended",
  restart: () => tasks.push(restartIce),
  giveUp: () => {
    if (pc && pc.connectionState !== "connected") hangup("ice_failed");
  },
});
const localCandidates = [];
const remoteCandidates = [];
const tasks = serialQueue((task) => task(), (error) => console.error("call step failed", error));

/** For the call window's own diagnostics (and the browser tests). */
globalThis.numfreeCall = {
  get pc() {
    return pc;
  },
  get state() {
    return state;
  },
  get code() {
    return verificationCode;
  },
  get verification() {
    return verification;
  },
  get iceRecovery() {
    return { restarts: recovery.restarts, log: recovery.log };
  },
};

function dispatch(event) {
  const before = state;
  state = transition(state, event);
  if (state === before) return;
  render();
  if (state.phase === "ended") cleanup();
}

function render() {
  const labels = {
    preparing: "Starting…",
    calling: "Calling…",
    ringing: "Ringing…",
    answering: "Answering…",
    connecting: "Connecting…",
    connected: "Connected",
    reconnecting: "Reconnecting…",
    ended: "Call ended",
  };
  $("peer").textContent = state.peer;
  $("state").textContent = labels[state.phase];
  $("state").dataset.phase = state.phase;
  document.body.dataset.phase = state.phase;
  if (state.phase === "ended") {
    $("message").textContent = state.message;
    $("message").dataset.reason = state.reason;
    $("message").dataset.tone = endTone(state);
    $("mic-help").hidden = !(state.reason === "user_media_failed" && state.endedByMe);
    // What the code and the quality said is about a connection that no longer exists.
    $("verify").hidden = true;
    $("quality").hidden = true;
  }
  $("duration").textContent = formatDuration(durationSeconds(state));
  $("mute").disabled = !localStream || state.phase === "ended";
  $("hangup").hidden = state.phase === "ended";
  $("close").hidden = state.phase !== "ended";
}

function connectPort() {
  port = chrome.runtime.connect({ name: "call" });
  port.postMessage({ type: "hello", call_id: callId });
  port.onMessage.addListener((message) => {
    if (message.type === "frame") tasks.push(() => handleFrame(message.frame));
    else if (message.type === "signaling") {
      $("signaling").textContent = message.state === "open" ? "" : "Reconnecting to NumFree…";
    }
  });
  port.onDisconnect.addListener(() => {
    // The service worker was stopped or restarted: say hello to the new one.
    port = null;
    if (state.phase !== "ended") setTimeout(() => port || connectPort(), 500);
  });
}

function sendFrame(frame) {
  if (!port) connectPort();
  port.postMessage({ type: "send", frame: { ...frame, call_id: callId } });
}

function hangup(reason = "user_hangup") {
  if (state.phase === "ended") return;
  sendFrame({ type: "call.hangup", reason });
  dispatch({ type: "hangup.local", reason });
}

async function start() {
  if (!record) {
    dispatch({ type: "error", code: "unknown_call" });
    return;
  }
  try {
    localStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
  } catch (error) {
    if (state.role === "callee") sendFrame({ type: "call.hangup", reason: "user_media_failed" });
    dispatch({ type: "media.failed", cause: microphoneProblem(error) });
    return;
  }
  let config = { iceServers: [], iceTransportPolicy: "all" };
  try {
    const answer = await api.iceServers();
    config = { iceServers: answer.iceServers || [], iceTransportPolicy: answer.iceTransportPolicy || "all" };
  } catch {
    $("signaling").textContent = "Could not load connection settings; trying a direct connection.";
  }
  if (state.phase === "ended") return;
  pc = new RTCPeerConnection(config);
  for (const track of localStream.getAudioTracks()) pc.addTrack(track, localStream);
  pc.onicecandidate = (event) => queueLocalCandidate(event.candidate);
  pc.ontrack = (event) => {
    $("remote").srcObject = event.streams[0] || new MediaStream([event.track]);
  };
  pc.onconnectionstatechange = () => connectionChanged(pc.connectionState);
  dispatch({ type: "media.ready" });
  if (state.role === "caller") {
    await pc.setLocalDescription(await pc.createOffer());
    const [fingerprint] = fingerprintsFromSdp(pc.localDescription.sdp);
    const commitment = fingerprint ? await verifier.inviteFields(fingerprint) : {};
    sendFrame({ type: "call.invite", to: state.peer, sdp: pc.localDescription.sdp, ...commitment });
    timers.invite = setTimeout(() => {
      if (state.phase === "calling" || state.phase === "ringing") hangup("invite_timeout");
    }, INVITE_TIMEOUT_MS);
  } else {
    await pc.setRemoteDescription({ type: "offer", sdp: record.sdp });
    await addRemoteCandidates([]);
    await pc.setLocalDescription(await pc.createAnswer());
    sendFrame({ type: "call.answer", sdp: pc.localDescription.sdp, ...verifier.answerFields() });
    dispatch({ type: "answer.sent" });
  }
}

function queueLocalCandidate(candidate) {
  if (!candidate || !candidate.candidate) return;
  localCandidates.push({ candidate: candidate.candidate, sdpMid: candidate.sdpMid, sdpMLineIndex: candidate.sdpMLineIndex });
  if (timers.candidates) return;
  timers.candidates = setTimeout(() => {
    timers.candidates = null;
    while (localCandidates.length) {
      sendFrame({ type: "call.candidates", candidates: localCandidates.splice(0, MAX_CANDIDATES_PER_FRAME) });
    }
  }, CANDIDATE_BATCH_MS);
}

async function addRemoteCandidates(candidates) {
  remoteCandidates.push(...candidates);
  if (!pc || !pc.remoteDescription) return; // kept until the remote description is set
  for (const candidate of remoteCandidates.splice(0)) {
    try {
      await pc.addIceCandidate(candidate);
    } catch (error) {
      console.warn("ignored a remote candidate", error);
    }
  }
}

async function handleFrame(frame) {
  if (state.phase === "ended") return;
  switch (frame.type) {
    case "call.status":
      if (frame.status === "ringing") dispatch({ type: "status.ringing" });
      return;
    case "call.answer":
      if (state.role !== "caller" || !pc) return;
      await pc.setRemoteDescription({ type: "answer", sdp: frame.sdp });
      clearTimeout(timers.invite);
      dispatch({ type: "answer.received" });
      {
        // Only now, with the answer (and its certificate) fixed, does the caller reveal its nonce.
        const reveal = verifier.onAnswer(frame);
        if (reveal) sendFrame(reveal);
      }
      await addRemoteCandidates([]);
      return;
    case "call.sas_reveal":
      verifier.onReveal(frame);
      await checkStats();
      return;
    case "call.candidates":
      await addRemoteCandidates(frame.candidates || []);
      return;
    case "call.negotiate":
      await negotiate(frame);
      return;
    case "call.hangup":
      dispatch({ type: "hangup.received", reason: frame.reason });
      return;
    case "call.answered_elsewhere":
      dispatch({ type: "answered_elsewhere" });
      return;
    case "error":
      if (["not_a_contact", "already_answered", "unknown_call"].includes(frame.code) && state.phase !== "connected") {
        dispatch({ type: "error", code: frame.code });
      } else {
        $("signaling").textContent = frame.message || frame.code;
      }
      return;
    default:
      return;
  }
}

async function negotiate(frame) {
  if (!pc) return;
  if (frame.description_type === "offer") {
    await pc.setRemoteDescription({ type: "offer", sdp: frame.sdp });
    await addRemoteCandidates([]);
    await pc.setLocalDescription(await pc.createAnswer());
    sendFrame({ type: "call.negotiate", sdp: pc.localDescription.sdp, description_type: "answer" });
  } else if (frame.description_type === "answer") {
    await pc.setRemoteDescription({ type: "answer", sdp: frame.sdp });
    await addRemoteCandidates([]);
  }
}

function connectionChanged(connectionState) {
  if (state.phase === "ended") return;
  recovery.onConnectionState(connectionState);
  if (connectionState === "connected") {
    dispatch({ type: "ice.connected" });
    startMonitoring();
  } else if (connectionState === "failed" || connectionState === "disconnected") {
    dispatch({ type: "ice.failed" });
  }
}

async function restartIce() {
  if (!pc || state.phase === "ended" || pc.connectionState === "connected") return;
  // An earlier restart's offer still unanswered (its answer lost while signaling reconnected):
  // take it back, so this offer replaces it instead of failing in have-local-offer.
  if (pc.signalingState === "have-local-offer") await pc.setLocalDescription({ type: "rollback" });
  pc.restartIce();
  await pc.setLocalDescription(await pc.createOffer({ iceRestart: true }));
  sendFrame({ type: "call.negotiate", sdp: pc.localDescription.sdp, description_type: "offer" });
}

function startMonitoring() {
  if (!timers.ticker) timers.ticker = setInterval(render, 1000);
  if (!timers.stats) {
    timers.stats = setInterval(checkStats, STATS_INTERVAL_MS);
    checkStats();
  }
}

async function checkStats() {
  if (!pc) return;
  const report = await pc.getStats();
  if (state.phase === "ended") return;
  const sample = sampleFromStats(report);
  const quality = assessQuality(sample, previousSample);
  previousSample = sample;
  const qualityText = {
    good: "Good connection",
    poor: `Poor connection: ${quality.problems.join(", ")}`,
    no_audio: `No sound is arriving from ${state.peer || "the other person"}.`,
  };
  $("quality").dataset.level = quality.level;
  $("quality").textContent = qualityText[quality.level];
  const dtls = dtlsFromStats(report, { localSdp: pc.currentLocalDescription?.sdp, remoteSdp: pc.currentRemoteDescription?.sdp });
  const usable = dtls && dtls.dtlsState === "connected" ? dtls : null;
  if (usable && dtlsConnectedAt === null) dtlsConnectedAt = Date.now();
  const revealOverdue = dtlsConnectedAt !== null && Date.now() - dtlsConnectedAt > REVEAL_TIMEOUT_MS;
  showVerification(await verifier.result(usable, { revealOverdue }));
}

const VERIFICATION_TEXT = {
  verified: ["Compare this code aloud:", ""],
  unverified: ["Not verified", ""],
  failed: ["Verification failed", ""],
};
const VERIFICATION_NOTES = {
  peer_without_commitment:
    "The other side's NumFree Caller does not take part in verification (it may be out of date), so nobody can check that this call is not being listened to. Talk as you would on an ordinary phone line.",
  reveal_missing:
    "The other side never finished the verification, so this call cannot be checked. If they see a code, it does not protect this call.",
  commitment_mismatch:
    "The other side's security details are not the ones it promised. Someone may be in the middle of this call: hang up.",
  certificate_mismatch:
    "The other side's security details are not the ones it sent. Someone may be in the middle of this call: hang up.",
  certificate_changed:
    "The other side's security details changed during the call. Someone may be in the middle of this call: hang up.",
};

function showVerification(result) {
  // Nothing to compare yet: the box appears with the code or the reason there is none.
  if (state.phase === "ended" || result.status === "pending") return;
  const changed = result.status !== verification.status || result.code !== verification.code;
  verification = result;
  verificationCode = result.status === "verified" ? result.code : null;
  if (!changed && !$("verify").hidden) return; // the live region speaks only when something changed
  const [label] = VERIFICATION_TEXT[result.status];
  $("verify").dataset.status = result.status;
  $("verify-label").textContent = label;
  $("code").textContent = result.status === "verified" ? result.code : "";
  $("verify-note").textContent = VERIFICATION_NOTES[result.reason] || "";
  $("verify").hidden = false;
}

function cleanup() {
  recovery.stop();
  for (const key of ["invite", "candidates"]) clearTimeout(timers[key]);
  for (const key of ["stats", "ticker"]) clearInterval(timers[key]);
  for (const track of localStream?.getTracks() || []) track.stop();
  if (pc) pc.close();
}

$("mute").addEventListener("click", () => {
  const track = localStream?.getAudioTracks()[0];
  if (!track) return;
  track.enabled = !track.enabled;
  // One accessible state: the label stays "Mute microphone", pressed or not.
  $("mute").setAttribute("aria-pressed", String(!track.enabled));
});
$("hangup").addEventListener("click", () => hangup("user_hangup"));
$("close").addEventListener("click", () => window.close());
window.addEventListener("pagehide", () => hangup("user_hangup"));

render();
connectPort();
tasks.push(start);
