// What a client is told when the federation core could not carry out its
// request: a refusal (by this server or by the sponsor that checked it) gets
// its coded error; a time-out means the outcome is unknown, so the answer is
// `unavailable` and says that a retry with the same client id is safe.

import { type ErrorCode, isErrorCode, ParleyError } from "@parley/protocol";
import type { FinalOutcome } from "../federation/driver/federation-driver.ts";
import { isRoomRejectionCode, roomRefusal } from "./room-refusals.ts";

const tableCodeOfFederationRefusal: Readonly<Record<string, ErrorCode>> = {
  room_unknown: "not_found",
  not_sponsor_here: "unavailable",
  unavailable: "unavailable",
  capacity_exceeded: "capacity_exceeded",
};

/** The error for an outcome the caller did not expect to succeed with (an accepted control entry is a bug). */
export function outcomeError(outcome: FinalOutcome): ParleyError {
  if (outcome.kind === "accepted" || outcome.kind === "committed") {
    return new ParleyError("internal", `an unexpected ${outcome.kind} outcome`);
  }
  if (outcome.kind === "timed-out") {
    return new ParleyError(
      "unavailable",
      "no sponsor answered in time: the outcome is unknown; retrying with the same client id is safe",
      { retryAfterMs: 1000 },
    );
  }
  if (isRoomRejectionCode(outcome.code)) return roomRefusal(outcome.code, outcome.reason);
  // A sponsor's MLS check (§13.8) refuses with the table's own MLS codes.
  if (outcome.code.startsWith("mls_") && isErrorCode(outcome.code)) {
    return new ParleyError(outcome.code, outcome.reason);
  }
  const code = tableCodeOfFederationRefusal[outcome.code] ?? "unavailable";
  return new ParleyError(code, code === "not_found" ? "no such room" : outcome.reason);
}
