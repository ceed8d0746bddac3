// Which frames ride the durable outbound queue. Durable: frames whose loss
// the protocol would repair only slowly or not at all — a routed message (a
// lost one waits for the next mark exchange and backfill), a leaf's control
// submission and its answer (sent once; the leaf's user waits for it),
// control records for a leaf (it would wait for its attach refresh), a
// backfill response, and an invite notice (the invitee's server would never
// learn of the room). A leaf's *message* submission and the sponsor's
// acceptance of it are best-effort: the leaf repeats an unanswered message
// submission on its own timer and the sponsor answers a repeat from its
// idempotency memory, while a disk write per hop sat on every message's path.
// Best-effort: everything the protocol repeats by itself on a timer — Raft
// messages (retransmitted by the leader), heartbeats, link state (refreshed),
// marks and backfill requests (exchanged periodically), attach/detach and
// node queries (re-sent until answered), and a KeyPackage claim (its asker
// retries after a timeout).

import type { Frame, FrameType } from "@parley/federation";
import type { FrameDelivery } from "./federation-transport.ts";

const deliveryOfType: Readonly<Record<FrameType, FrameDelivery>> = {
  raft: "best-effort",
  heartbeats: "best-effort",
  "link-state": "best-effort",
  routed: "durable",
  marks: "best-effort",
  "backfill-request": "best-effort",
  "backfill-response": "durable",
  attach: "best-effort",
  detach: "best-effort",
  invite: "durable",
  "node-query": "best-effort",
  "node-status": "best-effort",
  control: "durable",
  "control-signature": "durable",
  submit: "durable",
  "submit-result": "durable",
  // A claim goes out only over a live link and its asker waits a bounded
  // time: queued for a peer that is away, it would spend one-time packages
  // long after anyone waits (key-package-exchange.ts). Its result carries
  // packages that are spent once sent, so it must not be lost.
  "key-package-claim": "best-effort",
  "key-package-claim-result": "durable",
  // At most one a second per peer, and a lost one would leave the sender's
  // marks wrong until the next message (§12.13).
  receipts: "durable",
  // Sent when a device is revoked: the peer must learn of it even if away now (§12.14.2).
  "device-list": "durable",
};

export function frameDelivery(frame: Frame): FrameDelivery {
  if (frame.type === "submit" && frame.submission.kind === "message") return "best-effort";
  if (frame.type === "submit-result" && frame.outcome.kind === "accepted") return "best-effort";
  return deliveryOfType[frame.type];
}
