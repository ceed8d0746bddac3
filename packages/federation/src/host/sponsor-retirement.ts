import { equalBytes, type ServerName } from "@parley/protocol";
import { nextChainHash } from "../control-lane/control-record.ts";
import { RoomReplica } from "../control-lane/room-replica.ts";
import type { ControlFrame } from "../frames/frame.ts";
import { parseSponsorNodeId } from "../identity/sponsor-node-id.ts";
import type { HostContext } from "./host-context.ts";
import { requestFeed } from "./leaf-role.ts";
import type { RoomSession } from "./room-session.ts";

/**
 * Stops this server's Raft node of the room for good (its incarnation is
 * never started again) and makes the server follow the room as a leaf.
 */
export function retireSponsorNode(context: HostContext, session: RoomSession): void {
  const group = session.group;
  if (group === undefined) return;
  context.raft.removeGroup(session.room);
  const { incarnation } = parseSponsorNodeId(group.id);
  const previous = context.storage.loadRoom(session.room)?.retiredIncarnation ?? 0;
  session.contacts = session.replica.sponsors;
  context.storage.saveRoom(session.room, {
    contacts: session.contacts,
    node: null,
    retiredIncarnation: Math.max(previous, incarnation),
  });
  context.outbox.needSync();
  session.attachment.sponsor = null;
  session.attachment.acknowledged = false;
  session.attachment.attachSentTick = Number.NEGATIVE_INFINITY;
  requestFeed(context, session);
}

/**
 * A sponsor removed while it was cut off never hears of its removal through
 * Raft: the group no longer talks to it. What it does hear is a sponsor that
 * does not count it as one (a detach, in answer to its marks). It then asks
 * that sponsor for the control log after its own applied index, at most once
 * per retry period, and `controlAtSponsor` decides from the answer.
 */
export function suspectRemoval(context: HostContext, session: RoomSession, peer: ServerName): void {
  if (!session.isSponsor || !session.replica.sponsors.includes(peer)) return;
  if (context.tick - session.removalCheckTick < context.timing.attachRetryTicks) return;
  session.removalCheckTick = context.tick;
  context.outbox.send(peer, {
    type: "attach",
    room: session.room,
    controlIndex: session.replica.appliedIndex,
  });
}

/**
 * Control records that reached a sponsor (the answer to `suspectRemoval`).
 * They are committed and chain onto our own log, so if they show this node
 * removed (its server no longer a sponsor, or one again under a newer
 * incarnation), the node retires and the server follows the room as a leaf
 * from the state the records lead to. Otherwise they are ignored: a sponsor's
 * state moves only through its own Raft log.
 */
export function controlAtSponsor(
  context: HostContext,
  session: RoomSession,
  frame: ControlFrame,
): void {
  const group = session.group;
  if (group === undefined || session.replica.state === undefined) return;
  const ahead = frame.snapshot !== null && frame.snapshot.index > session.replica.appliedIndex;
  const snapshot = ahead && frame.snapshot !== null ? frame.snapshot : session.replica.snapshot();
  const scratch = RoomReplica.fromSnapshot(session.room, snapshot);
  for (const at of frame.records) {
    if (at.index <= scratch.appliedIndex) continue;
    if (at.index !== scratch.appliedIndex + 1) break;
    if (!equalBytes(nextChainHash(scratch.chainHash, at.record), at.chainHash)) return;
    scratch.apply(at.record);
  }
  if (scratch.appliedIndex <= session.replica.appliedIndex) return;
  // Only a state at or after the record that made this node can show it removed.
  const { incarnation } = parseSponsorNodeId(group.id);
  if (scratch.appliedIndex < incarnation) return;
  if (scratch.incarnationOf(context.self) === incarnation) return;
  retireSponsorNode(context, session);
  session.replica = scratch;
  context.storage.saveLeafSnapshot(session.room, scratch.snapshot());
  context.outbox.emit({ type: "state-restored", room: session.room, index: scratch.appliedIndex });
  session.lane.controlAdvanced();
}

/**
 * A sponsor's own log can show it removed before Raft has removed its node
 * (the remove-sponsor record commits first, the configuration change after).
 * A node whose applied state no longer names it as a sponsor under its own
 * incarnation retires at once, unless it leads: a leader first hands its
 * leadership over (leaderDuties) and retires when the change removing it applies.
 */
export function retireIfRemoved(context: HostContext, session: RoomSession): void {
  const group = session.group;
  if (group === undefined || group.role === "leader") return;
  const { incarnation } = parseSponsorNodeId(group.id);
  if (session.replica.appliedIndex < incarnation) return;
  if (session.replica.incarnationOf(context.self) === incarnation) return;
  retireSponsorNode(context, session);
}
