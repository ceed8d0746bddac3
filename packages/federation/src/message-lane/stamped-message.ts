import type { RoomId, UserId } from "@parley/protocol";
import type { NodeId } from "@parley/raft";
import type { RoomRejectionCode } from "@parley/room";

/**
 * An application message as a sponsor accepted it. The sponsor stamps it
 * with who it is (`origin`, its sponsor node id in the room), its own
 * gap-free `sequence` for the room, the control index it had applied when it
 * checked the sender (`controlIndex`), and its clock (`acceptedAtMs`).
 *
 * `(origin, sequence)` is the message's id: unique in the room, because an
 * origin never reuses a sequence and a node id is never reused.
 * `(sender, clientMessageId)` is the client's idempotency key: a client that
 * retries through another sponsor may get two stamps for one message, and
 * history order shows only the first (see history-order.ts).
 *
 * The body is opaque here (an MLS PrivateMessage, or a plain room's signed
 * message); checking its signature is the homeserver's job before it submits.
 */
export interface StampedMessage {
  readonly room: RoomId;
  readonly origin: NodeId;
  readonly sequence: number;
  readonly controlIndex: number;
  readonly acceptedAtMs: number;
  readonly sender: UserId;
  readonly clientMessageId: string;
  readonly body: Uint8Array;
}

/** The id of a stamped message: its origin and sequence. */
export interface MessageId {
  readonly origin: NodeId;
  readonly sequence: number;
}

/** A message id as one string, for maps and logs: `origin/sequence`. */
export function messageKey(id: MessageId): string {
  return `${id.origin}/${id.sequence}`;
}

/** The client's idempotency key as one string. */
export function submissionKey(message: Pick<StampedMessage, "sender" | "clientMessageId">): string {
  return `${message.sender} ${message.clientMessageId}`;
}

/**
 * What a server decided about a stored message when it re-checked it at its
 * stamped control index. Every server decides the same for the same message
 * (the decision depends only on the log up to that index), so a refused
 * message is stored everywhere, to keep the origin's sequence gap-free, and
 * shown nowhere.
 */
export type MessageVerdict = "allowed" | "refused";

/**
 * A re-check's answer. A refusal names the room's rejection code, which the
 * server reports to the sender's server in its receipts (§12.13); "forgotten"
 * is an index older than the server can still answer for.
 */
export type RecheckOutcome =
  | { readonly verdict: "allowed" | "forgotten" }
  | { readonly verdict: "refused"; readonly code: RoomRejectionCode };

export interface StoredMessage {
  readonly message: StampedMessage;
  readonly verdict: MessageVerdict;
}
