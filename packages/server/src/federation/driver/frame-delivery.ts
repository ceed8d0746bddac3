// Which frames ride the durable outbound queue. Durable: frames whose loss
// the protocol would repair only slowly or not at all — a routed message (a
// lost one waits for the next mark exchange and backfill), a leaf's
// submission and its answer (the leaf's user waits for it), control records
// for a leaf (it would wait for its attach refresh), a backfill response,
// and an invite notice (the invitee's server would never learn of the room).
// Best-effort: everything the protocol repeats by itself on a timer — Raft
// messages (retransmitted by the leader), heartbeats, link state (refreshed),
// marks and backfill requests (exchanged periodically), attach/detach and
// node queries (re-sent until answered).

import type { FrameType } from "@parley/federation";
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
  submit: "durable",
  "submit-result": "durable",
  // A claim result carries one-time KeyPackages that are spent once sent, and
  // the asker's user waits for both frames.
  "key-package-claim": "durable",
  "key-package-claim-result": "durable",
};

export function frameDelivery(type: FrameType): FrameDelivery {
  return deliveryOfType[type];
}
