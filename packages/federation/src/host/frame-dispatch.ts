import type { RoomId, ServerName } from "@parley/protocol";
import type { Frame, MarksFrame } from "../frames/frame.ts";
import { serverOfNode } from "../identity/sponsor-node-id.ts";
import { adoptCertificate, receiveControlSignature } from "./certification.ts";
import type { HostContext } from "./host-context.ts";
import { handleControlFrame, handleSubmitResult, requestFeed } from "./leaf-role.ts";
import { receiveLinkState } from "./link-state-duties.ts";
import type { RoomSession } from "./room-session.ts";
import { answerNodeQuery, askIfRemoved, handleNodeStatus } from "./sponsor-retirement.ts";
import { handleAttach, handleSubmit, mayFollow } from "./sponsor-role.ts";

/**
 * Hands a validated frame from `peer` to the part of the host it is for.
 * Frames about rooms this server does not hold are dropped (or answered
 * with a detach or a refusal where the peer needs to know).
 */
export function dispatchFrame(
  context: HostContext,
  sessions: ReadonlyMap<RoomId, RoomSession>,
  peer: ServerName,
  frame: Frame,
): void {
  switch (frame.type) {
    case "raft":
      context.raft.receiveRaft(peer, frame);
      return;
    case "heartbeats":
      context.raft.receiveHeartbeats(peer, frame);
      return;
    case "link-state":
      receiveLinkState(context, peer, frame);
      return;
    case "routed": {
      const path = frame.path;
      if (path[path.length - 1] !== peer || path.includes(context.self)) return;
      const session = sessions.get(frame.message.room);
      if (session === undefined) return;
      session.lane.receive(frame.message, path, "routed");
      detachIfStale(context, session, peer);
      return;
    }
    case "marks":
      receiveMarks(context, sessions.get(frame.room), peer, frame);
      return;
    case "backfill-request": {
      const session = sessions.get(frame.room);
      if (session === undefined || !mayRead(session, peer)) return;
      context.outbox.send(peer, session.lane.onBackfillRequest(frame));
      return;
    }
    case "backfill-response":
      sessions.get(frame.room)?.lane.onBackfillResponse(peer, frame, context.tick);
      return;
    case "attach": {
      const session = sessions.get(frame.room);
      if (session === undefined) context.outbox.send(peer, { type: "detach", room: frame.room });
      else handleAttach(context, session, peer, frame);
      return;
    }
    case "detach":
      receiveDetach(context, sessions.get(frame.room), peer);
      return;
    case "node-query": {
      // A server asks only about its own nodes.
      if (serverOfNode(frame.node) !== peer) return;
      const session = sessions.get(frame.room);
      const status = session === undefined ? undefined : answerNodeQuery(session, frame);
      if (status !== undefined) context.outbox.send(peer, status);
      return;
    }
    case "node-status": {
      const session = sessions.get(frame.room);
      if (session !== undefined) handleNodeStatus(context, session, frame);
      return;
    }
    case "control": {
      const session = sessions.get(frame.room);
      if (session === undefined) return;
      // A sponsor's state moves only through its own Raft log; it only takes a newer certificate of it.
      if (session.isSponsor) {
        adoptCertificate(context, session, frame.certificate);
        return;
      }
      handleControlFrame(context, session, peer, frame);
      detachIfStale(context, session, peer);
      return;
    }
    case "control-signature": {
      const session = sessions.get(frame.room);
      if (session !== undefined) receiveControlSignature(context, session, peer, frame);
      return;
    }
    case "submit": {
      const session = sessions.get(frame.room);
      const outcome =
        session === undefined
          ? ({ kind: "refused", code: "room_unknown", reason: "no such room here" } as const)
          : handleSubmit(context, session, peer, frame);
      if (outcome === null) return;
      context.outbox.send(peer, {
        type: "submit-result",
        room: frame.room,
        requestId: frame.requestId,
        outcome,
      });
      return;
    }
    case "submit-result": {
      const session = sessions.get(frame.room);
      if (session !== undefined) handleSubmitResult(context, session, frame);
      return;
    }
  }
}

function receiveMarks(
  context: HostContext,
  session: RoomSession | undefined,
  peer: ServerName,
  frame: MarksFrame,
): void {
  if (session === undefined) return;
  if (!mayRead(session, peer)) return;
  session.lane.onMarks(peer, frame, context.tick);
  const routes = session.routesInTree(context.self);
  if (routes && !session.replica.sponsors.includes(peer) && !session.attachedLeaves.has(peer)) {
    // A leaf that thinks it is attached here (we restarted, or dropped it): tell it.
    context.outbox.send(peer, { type: "detach", room: session.room });
    return;
  }
  if (!routes && peer === session.attachment.sponsor) {
    if (frame.controlIndex > session.replica.appliedIndex) requestFeed(context, session);
  }
}

function receiveDetach(
  context: HostContext,
  session: RoomSession | undefined,
  peer: ServerName,
): void {
  if (session === undefined) return;
  session.attachedLeaves.delete(peer);
  // A sponsor that does not count us while we run a node: ask whether we were removed.
  if (session.isSponsor && session.replica.sponsors.includes(peer)) {
    askIfRemoved(context, session, peer);
  }
  const attachment = session.attachment;
  if (attachment.sponsor !== peer) return;
  if (attachment.acknowledged) {
    // Forgotten (a restart, a dropped link): attach again after the retry period.
    attachment.acknowledged = false;
    attachment.attachSentTick = context.tick;
    return;
  }
  // Refused: try the next sponsor for a while. (An attach already pending
  // keeps its own timer, or repeated detaches would postpone it for ever.)
  attachment.refusedUntil.set(peer, context.tick + 5 * context.timing.attachRetryTicks);
}

/**
 * A leaf fed by a sponsor it is not attached to (our detach was lost, or we
 * moved on while the link was down) would get every message twice: tell
 * that sponsor to stop.
 */
function detachIfStale(context: HostContext, session: RoomSession, peer: ServerName): void {
  if (session.isSponsor || session.routesInTree(context.self)) return;
  if (peer === session.attachment.sponsor || !session.replica.sponsors.includes(peer)) return;
  context.outbox.send(peer, { type: "detach", room: session.room });
}

/** Whether `peer` may be sent the room's messages: a sponsor, or a server that may follow the room. */
function mayRead(session: RoomSession, peer: ServerName): boolean {
  const state = session.replica.state;
  if (state === undefined) return false;
  return (
    state.sponsors.includes(peer) || session.attachedLeaves.has(peer) || mayFollow(state, peer)
  );
}
