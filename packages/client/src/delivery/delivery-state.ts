// The delivery truth of one message this device sends (docs/protocol.md
// §10.4): a small state machine, pure, so every transition is checked in one
// place and tested on its own.
//
//   pending ──accepted──▶ accepted ──every server holds it──▶ delivered
//      │  ▲                  (`progress` carries the server and device counts
//   failed │ retry            of docs/protocol.md §10.14, from the sender's
//      ▼  │                   homeserver, which learns of other servers from
//    failed                   their receipts, §12.13)
//
// A message is never dropped silently: it ends accepted (the sponsor stored it
// under a room sequence and will not lose it) or failed, and a failed one can
// be retried with the same signed envelope, which the server deduplicates.

import { ParleyError } from "@parley/protocol";

/** Where the sponsor put an accepted message. */
export interface Acceptance {
  /** The message's sequence in its room (consecutive from 1). */
  readonly sequence: number;
  /** Its position in the server-wide event stream. */
  readonly streamPosition: number;
  readonly acceptedAtMs: number;
  /** The control index the sponsor had applied when it accepted the message. */
  readonly controlIndex: number;
}

/** How far an accepted message has come (§10.14); counts only grow. */
export interface DeliveryProgress {
  readonly servers: { readonly delivered: number; readonly total: number };
  readonly devices: { readonly delivered: number; readonly total: number };
  /** Servers whose re-check refused the message, with the code: shown, never retried. */
  readonly refusedBy: ReadonlyArray<{ readonly server: string; readonly code: string }>;
}

export type DeliveryState =
  /** Signed and being sent; `attempts` counts the requests made so far. */
  | { readonly status: "pending"; readonly attempts: number }
  /** Stored by the sponsoring homeserver: it will not be lost. */
  | ({ readonly status: "accepted"; readonly progress?: DeliveryProgress } & Acceptance)
  /** Held by every server of the room; `progress` goes on counting devices. */
  | ({
      readonly status: "delivered";
      readonly deliveredAtMs: number;
      readonly progress?: DeliveryProgress;
    } & Acceptance)
  /** Not accepted; `retry()` sends the same envelope again. */
  | { readonly status: "failed"; readonly error: ParleyError; readonly attempts: number };

export type DeliveryStatus = DeliveryState["status"];

export type DeliveryInput =
  | { readonly type: "attempt" }
  | { readonly type: "accepted"; readonly acceptance: Acceptance }
  | { readonly type: "failed"; readonly error: ParleyError }
  | { readonly type: "retry" }
  | { readonly type: "delivered"; readonly deliveredAtMs: number }
  /** The sender's server reported counts (a `delivery` stream item, §10.14). */
  | { readonly type: "progress"; readonly progress: DeliveryProgress; readonly atMs: number };

export const initialDeliveryState: DeliveryState = { status: "pending", attempts: 0 };

/**
 * The next state, or a thrown `invalid_argument` for a transition the machine
 * does not have (a bug in the caller, never a network condition).
 */
export function nextDeliveryState(state: DeliveryState, input: DeliveryInput): DeliveryState {
  switch (input.type) {
    case "attempt":
      if (state.status === "pending") return { status: "pending", attempts: state.attempts + 1 };
      break;
    case "accepted":
      // A retry of a message the server had already stored is answered with
      // the first acceptance (`duplicate`), so "accepted" may also end "failed"
      // when a lost answer made the client give up before the retry.
      if (state.status === "pending" || state.status === "failed") {
        return { status: "accepted", ...input.acceptance };
      }
      if (state.status === "accepted" || state.status === "delivered") return state;
      break;
    case "failed":
      if (state.status === "pending") {
        return { status: "failed", error: input.error, attempts: state.attempts };
      }
      break;
    case "retry":
      if (state.status === "failed") return { status: "pending", attempts: state.attempts };
      break;
    case "delivered":
      if (state.status === "accepted") {
        const { status: _status, ...acceptance } = state;
        return { status: "delivered", deliveredAtMs: input.deliveredAtMs, ...acceptance };
      }
      if (state.status === "delivered") return state;
      break;
    case "progress":
      if (state.status === "accepted" || state.status === "delivered") {
        return withProgress(state, input.progress, input.atMs);
      }
      break;
  }
  throw refusedTransition(state, input);
}

function refusedTransition(state: DeliveryState, input: DeliveryInput): ParleyError {
  return new ParleyError(
    "invalid_argument",
    `no delivery transition ${input.type} from ${state.status}`,
  );
}

/** Counts never go back: a late or repeated report cannot undo a newer one. */
function mergeProgress(
  before: DeliveryProgress | undefined,
  report: DeliveryProgress,
): DeliveryProgress {
  const larger = (
    left: DeliveryProgress["servers"] | undefined,
    right: DeliveryProgress["servers"],
  ) => ({
    delivered: Math.max(left?.delivered ?? 0, right.delivered),
    total: Math.max(left?.total ?? 0, right.total),
  });
  const refusedBy = [...(before?.refusedBy ?? [])];
  for (const refusal of report.refusedBy) {
    if (!refusedBy.some((known) => known.server === refusal.server)) refusedBy.push(refusal);
  }
  return {
    servers: larger(before?.servers, report.servers),
    devices: larger(before?.devices, report.devices),
    refusedBy,
  };
}

function withProgress(
  state: Extract<DeliveryState, { status: "accepted" | "delivered" }>,
  report: DeliveryProgress,
  atMs: number,
): DeliveryState {
  const progress = mergeProgress(state.progress, report);
  if (state.status === "delivered") return { ...state, progress };
  const { status: _status, progress: _before, ...acceptance } = state;
  const everyServer =
    progress.servers.total > 0 && progress.servers.delivered >= progress.servers.total;
  return everyServer
    ? { status: "delivered", deliveredAtMs: atMs, progress, ...acceptance }
    : { status: "accepted", progress, ...acceptance };
}
