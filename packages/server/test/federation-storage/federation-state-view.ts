// A FederationStorage as plain data over a known set of rooms and Raft
// nodes, read through the interface only, so the database storage (reopened
// from disk) and the in-memory reference compare with toEqual.

import type { FederationStorage } from "@parley/federation";
import { messageStoreView } from "@parley/federation/storage-contract";
import type { RoomId } from "@parley/protocol";
import type { NodeId } from "@parley/raft";
import { raftGroupView } from "./raft-group-view.ts";

export function federationStateView(
  storage: FederationStorage,
  rooms: readonly RoomId[],
  nodes: readonly NodeId[],
) {
  const known = new Set(rooms);
  return {
    rooms: storage.rooms().filter((room) => known.has(room)),
    perRoom: rooms.map((room) => ({
      record: storage.loadRoom(room),
      leafLog: storage.leafLog(room),
      messages: messageStoreView(storage.messages(room)),
      groups: nodes.map((node) => raftGroupView(storage.groups.open(room, node))),
    })),
  };
}
