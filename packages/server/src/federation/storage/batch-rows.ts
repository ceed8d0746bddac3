// Turns a pending batch into rows, synchronously, at the moment a flush
// starts: the writes that arrive while the transaction runs belong to the
// next batch and must not leak into this one.

import type { LeafControlLog, RoomMembershipRecord } from "@parley/federation";
import type { ControlCertificate, RoomId } from "@parley/protocol";
import type {
  FederationCertificatesTable,
  FederationLeafRecordsTable,
  FederationLeafSnapshotsTable,
  FederationMessagesTable,
  FederationRaftEntriesTable,
  FederationRaftGroupsTable,
  FederationRoomsTable,
} from "./federation-tables.ts";
import type { PendingWrites } from "./pending-writes.ts";
import {
  encodeCertificate,
  encodeEntry,
  encodeGroupRow,
  encodeLeafRecord,
  encodeLeafSnapshot,
  encodeMessage,
} from "./row-codecs.ts";

export interface GroupRows {
  readonly room: string;
  readonly node: string;
  readonly row: FederationRaftGroupsTable;
  /** Stored entries at or below this index are deleted (the compaction point moved). */
  readonly deleteThroughIndex: number | null;
  /** Stored entries from this index on are deleted (a suffix was replaced). */
  readonly deleteFromIndex: number | null;
  /** Written (inserted or replaced) after the deletions. */
  readonly entries: readonly FederationRaftEntriesTable[];
}

export interface LeafLogRows {
  readonly room: RoomId;
  /** Present when the snapshot was replaced: every stored record is deleted first. */
  readonly snapshot: FederationLeafSnapshotsTable | null;
  readonly replaced: boolean;
  readonly records: readonly FederationLeafRecordsTable[];
}

export interface BatchRows {
  readonly destroyedGroups: ReadonlyArray<{ readonly room: string; readonly node: string }>;
  readonly groups: readonly GroupRows[];
  readonly rooms: readonly FederationRoomsTable[];
  readonly certificates: readonly FederationCertificatesTable[];
  readonly messages: readonly FederationMessagesTable[];
  readonly leafLogs: readonly LeafLogRows[];
}

/** Where the rows' current values come from. */
export interface MirrorView {
  room(room: RoomId): RoomMembershipRecord | undefined;
  leafLog(room: RoomId): LeafControlLog;
  certificate(room: RoomId): ControlCertificate | null;
}

export function batchRows(batch: PendingWrites, view: MirrorView): BatchRows {
  const groups: GroupRows[] = [];
  for (const { storage, rewriteFromIndex, truncates, movesOffset } of batch.groups.values()) {
    const state = storage.row();
    const from = Math.max(rewriteFromIndex, state.offsetIndex + 1);
    const entries = Number.isFinite(from) ? storage.entriesFrom(from) : [];
    groups.push({
      room: storage.room,
      node: storage.node,
      row: { room_id: storage.room, node_id: storage.node, ...encodeGroupRow(state) },
      deleteThroughIndex: movesOffset ? state.offsetIndex : null,
      deleteFromIndex: truncates && Number.isFinite(from) ? from : null,
      entries: entries.map((entry) => ({
        room_id: storage.room,
        node_id: storage.node,
        ...encodeEntry(entry),
      })),
    });
  }
  const rooms: FederationRoomsTable[] = [];
  for (const room of batch.rooms) {
    const record = view.room(room);
    if (record === undefined) continue;
    rooms.push({
      room_id: room,
      contacts: JSON.stringify(record.contacts),
      node_id: record.node,
      retired_incarnation: record.retiredIncarnation,
    });
  }
  const certificates: FederationCertificatesTable[] = [];
  for (const room of batch.certificates) {
    const certificate = view.certificate(room);
    if (certificate !== null) certificates.push(encodeCertificate(room, certificate));
  }
  const leafLogs: LeafLogRows[] = [];
  for (const [room, pending] of batch.leafLogs) {
    const log = view.leafLog(room);
    const snapshot = pending.replaced && log.snapshot !== null ? log.snapshot : null;
    leafLogs.push({
      room,
      snapshot: snapshot === null ? null : encodeLeafSnapshot(room, snapshot),
      replaced: pending.replaced,
      records: log.records
        .slice(pending.fromPosition)
        .map((record, offset) => encodeLeafRecord(room, pending.fromPosition + offset, record)),
    });
  }
  return {
    destroyedGroups: [...batch.destroyedGroups.values()],
    groups,
    rooms,
    certificates,
    messages: batch.messages.map(({ room, stored }) => encodeMessage(room, stored)),
    leafLogs,
  };
}
