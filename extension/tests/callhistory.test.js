import assert from "node:assert/strict";
import { test } from "node:test";

import { callOutcome, describeCall } from "../lib/callhistory.js";

const row = (fields) => ({ id: 1, kind: "app", direction: "out", peer: "bob@example.com", started_at: "2026-01-01T10:00:00Z", answered_at: null, ended_at: "2026-01-01T10:01:00Z", duration_s: 0, end_reason: "", missed: false, ...fields });

test("call history never shows a protocol code such as offline or rejected", () => {
  const reasons = ["offline", "rejected", "user_busy", "invite_timeout", "user_hangup", "ice_failed", "replaced", "unknown_error", "user_media_failed", "busy", "no-answer", "completed", "canceled", "failed", ""];
  for (const direction of ["in", "out"]) {
    for (const end_reason of reasons) {
      const words = callOutcome(row({ direction, end_reason }));
      assert.doesNotMatch(words, /_|^(offline|rejected|busy|completed|failed|canceled)$/, `${direction} ${end_reason} -> ${words}`);
      assert.match(words, /^[A-Z]/);
    }
  }
});

test("each outcome reads as a person would say it", () => {
  assert.equal(callOutcome(row({ direction: "in", missed: true, end_reason: "offline" })), "Missed call");
  assert.equal(callOutcome(row({ end_reason: "offline" })), "Not online");
  assert.equal(callOutcome(row({ end_reason: "rejected" })), "Declined");
  assert.equal(callOutcome(row({ direction: "in", end_reason: "rejected" })), "You declined");
  assert.equal(callOutcome(row({ answered_at: "2026-01-01T10:00:05Z", duration_s: 123, end_reason: "user_hangup" })), "Talked 2:03");
});

test("a call line names the direction and the other person", () => {
  assert.equal(describeCall(row({ direction: "in" })).heading, "Incoming call from bob@example.com");
  assert.equal(describeCall(row({ peer: "" })).heading, "Call to a deleted user");
});
