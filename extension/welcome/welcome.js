/** The first-run page: asks for the microphone before the first call, and when Chrome refuses,
 * says how to allow it. Opened once on install, and from the popup while not yet allowed. */

import { microphoneProblem } from "../lib/callstate.js";

const $ = (id) => document.getElementById(id);

const TEXT = {
  granted: "Your microphone is ready. You can close this tab.",
  denied: "Chrome blocked the microphone for NumFree Caller. To allow it:",
  missing: "No microphone was found. Connect one (or check that it is switched on), then click Try again.",
  unavailable: "The microphone could not be started; another app may be using it. Close that app, then click Try again.",
};

function show(outcome) {
  $("result").dataset.outcome = outcome;
  $("result-text").textContent = TEXT[outcome];
  $("fix").hidden = outcome !== "denied";
  $("allow").textContent = outcome === "granted" ? "Test the microphone again" : outcome === "prompt" ? "Allow the microphone" : "Try again";
}

async function ask() {
  $("allow").disabled = true;
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
    for (const track of stream.getTracks()) track.stop();
    show("granted");
  } catch (error) {
    show(microphoneProblem(error));
  } finally {
    $("allow").disabled = false;
  }
}

$("origin").textContent = location.origin;
$("allow").addEventListener("click", ask);
try {
  const status = await navigator.permissions.query({ name: "microphone" });
  if (status.state === "granted") show("granted");
  if (status.state === "denied") show("denied");
  status.onchange = () => status.state === "granted" && show("granted");
} catch {
  // Without the Permissions API the button still works.
}
