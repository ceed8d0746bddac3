import type { ServerName } from "@parley/protocol";
import type { NodeQueryFrame, NodeStatusFrame } from "../frames/frame.ts";
import { parseSponsorNodeId, serverOfNode } from "../identity/sponsor-node-id.ts";
import type { HostContext } from "./host-context.ts";
import { requestFeed } from "./leaf-role.ts";
import type { RoomSession } from "./room-session.ts";

/**
 * Stops this server's Raft node of the room for good (its incarnation is
 * never started again) and makes the server follow the room as a leaf.
 *
 * A node retires only when the group's Raft configuration no longer has it:
 * when it applies the change that removes it (federation-host.ts), or when a
 * sponsor tells it so (`handleNodeStatus`). Never on the room state alone: a
 * remove-sponsor record commits before the configuration change, and a node
 * that stopped then could leave the group without the quorum that change needs.
 */
export function retireSponsorNode(context: HostContext, session: RoomSession): void {
  const group = session.group;
  if (group === undefined) return;
  context.raft.removeGroup(session.room);
  const { incarnation } = parseSponsorNodeId(group.id);
  const previous = context.storage.loadRoom(session.room)?.retiredIncarnation ?? 0;
  session.retiredIncarnation = Math.max(previous, incarnation);
  session.contacts = session.replica.sponsors;
  context.storage.saveRoom(session.room, {
    contacts: session.contacts,
    node: null,
    retiredIncarnation: session.retiredIncarnation,
  });
  context.outbox.needSync();
  session.attachedLeaves.clear();
  session.leaderlessSinceTick = null;
  session.attachment.sponsor = null;
  session.attachment.acknowledged = false;
  session.attachment.attachSentTick = Number.NEGATIVE_INFINITY;
  requestFeed(context, session);
}

/**
 * A node that may have been removed asks a sponsor. Two things make it
 * suspect: its own applied state no longer names it (under its incarnation),
 * or a sponsor answered its marks with a detach (that sponsor does not count
 * it). A node removed while it was cut off hears nothing more from the group,
 * so it must ask. At most one question per retry period.
 */
export function askIfRemoved(context: HostContext, session: RoomSession, peer?: ServerName): void {
  const group = session.group;
  if (group === undefined) return;
  if (context.tick - session.removalCheckTick < context.timing.attachRetryTicks) return;
  const target = peer ?? pickSponsor(context, session);
  if (target === undefined) return;
  session.removalCheckTick = context.tick;
  context.outbox.send(target, { type: "node-query", room: session.room, node: group.id });
}

/**
 * Called at every tick: asks when the node's own state no longer names it,
 * or when for `leaderlessTicksBeforeAsking` its group has had no leader or
 * the node has had no configuration (a node removed while cut off hears from
 * no leader again and its own state may still name it; a new node removed
 * before the leader's snapshot reached it never learns a configuration).
 */
export function checkOwnRemoval(context: HostContext, session: RoomSession): void {
  const group = session.group;
  if (group === undefined) return;
  if (group.lead !== null && group.confState.voters.length > 0) {
    session.leaderlessSinceTick = null;
  } else if (session.leaderlessSinceTick === null) {
    session.leaderlessSinceTick = context.tick;
  } else if (
    context.tick - session.leaderlessSinceTick >=
    context.timing.leaderlessTicksBeforeAsking
  ) {
    askIfRemoved(context, session);
    return;
  }
  const { incarnation } = parseSponsorNodeId(group.id);
  if (session.replica.appliedIndex < incarnation) return;
  if (session.replica.incarnationOf(context.self) === incarnation) return;
  askIfRemoved(context, session);
}

function pickSponsor(context: HostContext, session: RoomSession): ServerName | undefined {
  const live = session.replica.sponsors.filter(
    (sponsor) => sponsor !== context.self && context.liveLinks.has(sponsor),
  );
  if (live.length === 0) return undefined;
  // Each question goes to the next one: a sponsor that does not answer (it
  // runs no node any more) is not asked every time.
  session.removalQueries += 1;
  return live[session.removalQueries % live.length];
}

/** A server running the room's group answers what it knows of `frame.node`. */
export function answerNodeQuery(
  session: RoomSession,
  frame: NodeQueryFrame,
): NodeStatusFrame | undefined {
  const group = session.group;
  if (group === undefined) return undefined;
  const { voters, learners, votersOutgoing, learnersNext } = group.confState;
  const inConfiguration = [...voters, ...learners, ...votersOutgoing, ...learnersNext].includes(
    frame.node,
  );
  return {
    type: "node-status",
    room: session.room,
    node: frame.node,
    controlIndex: session.replica.appliedIndex,
    incarnation: session.replica.incarnationOf(serverOfNode(frame.node)) ?? 0,
    inConfiguration,
  };
}

/**
 * The node retires when the answering sponsor's applied state is at or past
 * the record that made the node, no longer names it under its incarnation,
 * and its applied configuration does not include it. Then the node is out of
 * the group by a committed decision and can never come back: the leader only
 * adds nodes the sponsor set names, and a node id is never named again.
 */
export function handleNodeStatus(
  context: HostContext,
  session: RoomSession,
  frame: NodeStatusFrame,
): void {
  const group = session.group;
  if (group === undefined || frame.node !== group.id) return;
  const { incarnation } = parseSponsorNodeId(group.id);
  const removed =
    frame.controlIndex >= incarnation &&
    frame.incarnation !== incarnation &&
    !frame.inConfiguration;
  if (removed) retireSponsorNode(context, session);
}
