// Reads every federation table once, at start, into the values the mirror
// holds. Large tables are read in pages by key, so a big history does not
// become one result set in the driver.

import type {
  ControlRecordAt,
  ControlSnapshot,
  RoomMembershipRecord,
  StoredMessage,
} from "@parley/federation";
import type { ControlCertificate } from "@parley/protocol";
import { parseServerName, type RoomId } from "@parley/protocol";
import { type Entry, nodeId } from "@parley/raft";
import { sql } from "kysely";
import { StorageError } from "../../storage/errors.ts";
import type { FederationDatabase } from "./federation-tables.ts";
import type { RaftGroupState } from "./raft-group-storage.ts";
import {
  decodeCertificate,
  decodeEntry,
  decodeGroupRow,
  decodeLeafRecord,
  decodeLeafSnapshot,
  decodeMessage,
  IdentifierCache,
  parseStoredJson,
  storedIdentifier,
  storedRoomId,
} from "./row-codecs.ts";

const loadPageRows = 4096;

export interface LoadedGroup {
  readonly room: string;
  readonly node: string;
  readonly state: RaftGroupState;
}

export interface LoadedMirror {
  readonly groups: readonly LoadedGroup[];
  readonly rooms: ReadonlyMap<RoomId, RoomMembershipRecord>;
  readonly leafLogs: ReadonlyMap<
    RoomId,
    { snapshot: ControlSnapshot | null; records: ControlRecordAt[] }
  >;
  readonly certificates: ReadonlyMap<RoomId, ControlCertificate>;
}

async function loadRooms(db: FederationDatabase): Promise<Map<RoomId, RoomMembershipRecord>> {
  const rows = await db.selectFrom("federation_rooms").selectAll().execute();
  const rooms = new Map<RoomId, RoomMembershipRecord>();
  for (const row of rows) {
    const contacts = parseStoredJson(row.contacts, "contact list");
    if (!Array.isArray(contacts)) {
      throw new StorageError("database-failed", "a stored contact list is malformed");
    }
    rooms.set(storedRoomId(row.room_id), {
      contacts: contacts.map((contact: unknown) =>
        storedIdentifier(parseServerName, String(contact), "server name"),
      ),
      node: row.node_id === null ? null : nodeId(row.node_id),
      retiredIncarnation: row.retired_incarnation,
    });
  }
  return rooms;
}

async function loadCertificates(db: FederationDatabase): Promise<Map<RoomId, ControlCertificate>> {
  const rows = await db.selectFrom("federation_certificates").selectAll().execute();
  return new Map(rows.map((row) => [storedRoomId(row.room_id), decodeCertificate(row)]));
}

async function loadEntries(db: FederationDatabase): Promise<Map<string, Entry[]>> {
  const entries = new Map<string, Entry[]>();
  let after: readonly [string, string, number] = ["", "", 0];
  for (;;) {
    const rows = await db
      .selectFrom("federation_raft_entries")
      .selectAll()
      .where(sql<boolean>`(room_id, node_id, log_index) > (${after[0]}, ${after[1]}, ${after[2]})`)
      .orderBy("room_id")
      .orderBy("node_id")
      .orderBy("log_index")
      .limit(loadPageRows)
      .execute();
    for (const row of rows) {
      const key = `${row.room_id} ${row.node_id}`;
      let list = entries.get(key);
      if (list === undefined) {
        list = [];
        entries.set(key, list);
      }
      list.push(decodeEntry(row));
      after = [row.room_id, row.node_id, row.log_index];
    }
    if (rows.length < loadPageRows) return entries;
  }
}

async function loadGroups(db: FederationDatabase): Promise<LoadedGroup[]> {
  const entries = await loadEntries(db);
  const rows = await db.selectFrom("federation_raft_groups").selectAll().execute();
  return rows.map((row) => ({
    room: row.room_id,
    node: row.node_id,
    state: decodeGroupRow(row, entries.get(`${row.room_id} ${row.node_id}`) ?? []),
  }));
}

async function loadLeafLogs(db: FederationDatabase): Promise<LoadedMirror["leafLogs"]> {
  const logs = new Map<RoomId, { snapshot: ControlSnapshot | null; records: ControlRecordAt[] }>();
  const logOf = (room: string) => {
    const id = storedRoomId(room);
    let log = logs.get(id);
    if (log === undefined) {
      log = { snapshot: null, records: [] };
      logs.set(id, log);
    }
    return log;
  };
  const snapshots = await db.selectFrom("federation_leaf_snapshots").selectAll().execute();
  for (const row of snapshots) logOf(row.room_id).snapshot = decodeLeafSnapshot(row);
  const records = await db
    .selectFrom("federation_leaf_records")
    .selectAll()
    .orderBy("room_id")
    .orderBy("position")
    .execute();
  for (const row of records) logOf(row.room_id).records.push(decodeLeafRecord(row));
  return logs;
}

/** Reads every stored message in key order, a page at a time. */
export async function forEachStoredMessage(
  db: FederationDatabase,
  each: (room: RoomId, stored: StoredMessage) => void,
): Promise<number> {
  let count = 0;
  let after: readonly [string, string, number] = ["", "", 0];
  const identifiers = new IdentifierCache();
  for (;;) {
    const rows = await db
      .selectFrom("federation_messages")
      .selectAll()
      .where(sql<boolean>`(room_id, origin, sequence) > (${after[0]}, ${after[1]}, ${after[2]})`)
      .orderBy("room_id")
      .orderBy("origin")
      .orderBy("sequence")
      .limit(loadPageRows)
      .execute();
    for (const row of rows) {
      const stored = decodeMessage(row, identifiers);
      each(stored.message.room, stored);
      after = [row.room_id, row.origin, row.sequence];
      count += 1;
    }
    if (rows.length < loadPageRows) return count;
  }
}

/** Everything but the messages (forEachStoredMessage reads those). */
export async function loadMirror(db: FederationDatabase): Promise<LoadedMirror> {
  return {
    groups: await loadGroups(db),
    rooms: await loadRooms(db),
    leafLogs: await loadLeafLogs(db),
    certificates: await loadCertificates(db),
  };
}
