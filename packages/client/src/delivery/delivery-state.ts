// The delivery truth of one message this device sends (docs/protocol.md
// §10.4): a small state machine, pure, so every transition is checked in one
// place and tested on its own.
//
//   pending ──accepted──▶ accepted ──delivered──▶ delivered
//      │  ▲                   (the homeserver does not report delivery to
//   failed │ retry             recipient servers or devices yet: docs/protocol.md
//                              §10.14 and §12.13 specify how it will)
//      ▼  │
//    failed
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

export type DeliveryState =
  /** Signed and being sent; `attempts` counts the requests made so far. */
  | { readonly status: "pending"; readonly attempts: number }
  /** Stored by the sponsoring homeserver: it will not be lost. */
  | ({ readonly status: "accepted" } & Acceptance)
  /**
   * Delivered to the recipients. Reserved: the homeserver does not report
   * per-recipient-server or per-device delivery yet, so no message reaches
   * this state today.
   */
  | ({ readonly status: "delivered"; readonly deliveredAtMs: number } & Acceptance)
  /** Not accepted; `retry()` sends the same envelope again. */
  | { readonly status: "failed"; readonly error: ParleyError; readonly attempts: number };

export type DeliveryStatus = DeliveryState["status"];

export type DeliveryInput =
  | { readonly type: "attempt" }
  | { readonly type: "accepted"; readonly acceptance: Acceptance }
  | { readonly type: "failed"; readonly error: ParleyError }
  | { readonly type: "retry" }
  | { readonly type: "delivered"; readonly deliveredAtMs: number };

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
  }
  throw new ParleyError(
    "invalid_argument",
    `no delivery transition ${input.type} from ${state.status}`,
  );
}
