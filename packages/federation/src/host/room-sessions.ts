// How the host's room sessions come to be: opened for a new room (with its
// message lane wired to the outbox and the spanning tree), restored from
// storage at start, opened when a sponsor's invite notice arrives, and
// turned into a sponsor node when the room's Raft group asks for this server.

import { ParleyError, type RoomId, type ServerName } from "@parley/protocol";
import type { NodeId } from "@parley/raft";
import type { GroupApplier } from "../consensus/raft-group.ts";
import { RoomReplica } from "../control-lane/room-replica.ts";
import type { InviteFrame } from "../frames/frame.ts";
import { parseSponsorNodeId } from "../identity/sponsor-node-id.ts";
import { roomsPerServerMax } from "../limits.ts";
import { RoomMessageLane } from "../message-lane/message-lane.ts";
import { forwardingTargets } from "../routing/forwarding.ts";
import type { HostContext } from "./host-context.ts";
import { leafDuties, wakeLeaf } from "./leaf-role.ts";
import { RoomSession } from "./room-session.ts";
import { applyRecord, sponsorApplier } from "./sponsor-role.ts";

/** Opens the session of a room this server starts taking part in (as sponsor or leaf). */
export function openSession(
  context: HostContext,
  sessions: Map<RoomId, RoomSession>,
  room: RoomId,
  contacts: readonly ServerName[],
): RoomSession {
  if (sessions.size >= roomsPerServerMax) {
    throw new ParleyError("capacity_exceeded", "this server takes part in as many rooms as it may");
  }
  const { self, outbox } = context;
  const session = new RoomSession(room, contacts, context.raft);
  session.lane = new RoomMessageLane({
    room,
    self,
    store: context.storage.messages(room),
    control: session,
    clock: context.clock,
    timing: context.timing,
    output: {
      send: (to, frame) => outbox.send(to, frame),
      stored: (stored, via, refusal) => {
        outbox.needSync();
        outbox.emit(
          refusal === undefined
            ? { type: "message-stored", room, stored, via }
            : { type: "message-stored", room, stored, via, refusal },
        );
      },
      forwardTargets: (path) => {
        if (!session.routesInTree(self)) return [];
        const tree = session.tree(context.links);
        const sponsors = session.replica.sponsors;
        const leaves = [...session.attachedLeaves.keys()].filter(
          (leaf) => !sponsors.includes(leaf),
        );
        return forwardingTargets(self, tree, leaves, path);
      },
    },
  });
  sessions.set(room, session);
  return session;
}

/** Restores a room the storage lists: its sponsor node, or its leaf log. */
export function restoreSession(
  context: HostContext,
  sessions: Map<RoomId, RoomSession>,
  room: RoomId,
): void {
  const record = context.storage.loadRoom(room);
  if (record === undefined) return;
  const session = openSession(context, sessions, room, record.contacts);
  session.retiredIncarnation = record.retiredIncarnation;
  session.certificate = context.storage.certificate(room);
  if (record.node !== null) {
    context.raft.startGroup(room, record.node, sponsorApplier(context, session));
    return;
  }
  const log = context.storage.leafLog(room);
  if (log.snapshot !== null) session.replica = RoomReplica.fromSnapshot(room, log.snapshot);
  for (const at of log.records) {
    if (at.index === session.replica.appliedIndex + 1) {
      applyRecord(context, session, at.record);
    }
  }
  session.newRecords = [];
}

/**
 * A sponsor says one of our users was invited: follow the room as a leaf
 * through its sponsors (the sender first). Only a sponsor the frame names
 * may send it; a room we already take part in needs nothing. The
 * sponsors' own checks (mayFollow) decide whether we are fed.
 */
export function receiveInvite(
  context: HostContext,
  sessions: Map<RoomId, RoomSession>,
  peer: ServerName,
  frame: InviteFrame,
): void {
  if (!frame.sponsors.includes(peer) || frame.sponsors.includes(context.self)) return;
  const known = sessions.get(frame.room);
  if (known !== undefined) {
    // A room this leaf detached from (no local user left): follow it again.
    wakeLeaf(context, known);
    leafDuties(context, known);
    return;
  }
  const contacts = [peer, ...frame.sponsors.filter((sponsor) => sponsor !== peer)];
  const session = openSession(context, sessions, frame.room, contacts);
  context.storage.saveRoom(frame.room, { contacts, node: null, retiredIncarnation: 0 });
  context.outbox.needSync();
  leafDuties(context, session);
}

/**
 * The room's Raft group wants node `to`: if it is a current node of this
 * server, start it (saving it, and leaving the leaf attachment); a node
 * retired before is never started again.
 */
export function groupWanted(
  context: HostContext,
  sessions: Map<RoomId, RoomSession>,
  room: RoomId,
  to: NodeId,
): GroupApplier | null {
  const { server, incarnation } = parseSponsorNodeId(to);
  if (server !== context.self) return null;
  const record = context.storage.loadRoom(room);
  if (record !== undefined && incarnation <= record.retiredIncarnation) return null;
  const session = sessions.get(room) ?? openSession(context, sessions, room, []);
  // A node this server ran before in the room (replaced by this newer one) is retired for good.
  const replaced = record?.node == null ? 0 : parseSponsorNodeId(record.node).incarnation;
  session.retiredIncarnation = Math.max(record?.retiredIncarnation ?? 0, replaced);
  context.storage.saveRoom(room, {
    contacts: session.contacts,
    node: to,
    retiredIncarnation: session.retiredIncarnation,
  });
  const sponsor = session.attachment.sponsor;
  if (sponsor !== null && context.liveLinks.has(sponsor)) {
    context.outbox.send(sponsor, { type: "detach", room });
  }
  session.attachment.sponsor = null;
  context.outbox.needSync();
  return sponsorApplier(context, session);
}
