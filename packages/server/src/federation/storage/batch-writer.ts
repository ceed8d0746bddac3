// Writes one batch of rows in one transaction: all of it becomes visible at
// commit or none of it does (a crash mid-flush leaves the previous flush's
// state). Every statement is an upsert, a delete or an insert that ignores
// an existing key, so writing the same batch twice gives the same rows.
// On SQLite the commit is durable when it returns (the driver syncs the WAL
// before it resolves, storage/connection/sqlite.ts); on PostgreSQL when
// COMMIT returns. The same rows can also be written inside the event
// stream's append transaction (writeBatchRowsIn), so a round of messages
// costs one commit.

import { federationInsertRowsMax } from "../../limits.ts";
import type { BatchRows, GroupRows, LeafLogRows } from "./batch-rows.ts";
import type { FederationDatabase } from "./federation-tables.ts";

/** An open transaction with the federation tables. */
type FederationTransaction = FederationDatabase;

function chunks<T>(rows: readonly T[]): T[][] {
  const found: T[][] = [];
  for (let start = 0; start < rows.length; start += federationInsertRowsMax) {
    found.push(rows.slice(start, start + federationInsertRowsMax));
  }
  return found;
}

async function deleteGroup(
  transaction: FederationTransaction,
  room: string,
  node: string,
): Promise<void> {
  await transaction
    .deleteFrom("federation_raft_entries")
    .where("room_id", "=", room)
    .where("node_id", "=", node)
    .execute();
  await transaction
    .deleteFrom("federation_raft_groups")
    .where("room_id", "=", room)
    .where("node_id", "=", node)
    .execute();
}

/**
 * Deletes what the groups' writes removed, then writes every group's row in
 * multi-row upserts and every new entry in multi-row inserts: a flush of a
 * thousand groups' appends is a handful of statements, not thousands.
 */
async function writeGroups(
  transaction: FederationTransaction,
  groups: readonly GroupRows[],
): Promise<void> {
  for (const group of groups) {
    const { deleteThroughIndex, deleteFromIndex } = group;
    if (deleteThroughIndex === null && deleteFromIndex === null) continue;
    await transaction
      .deleteFrom("federation_raft_entries")
      .where("room_id", "=", group.room)
      .where("node_id", "=", group.node)
      .where((where) => {
        const conditions = [];
        if (deleteThroughIndex !== null) {
          conditions.push(where("log_index", "<=", deleteThroughIndex));
        }
        if (deleteFromIndex !== null) conditions.push(where("log_index", ">=", deleteFromIndex));
        return where.or(conditions);
      })
      .execute();
  }
  for (const rows of chunks(groups.map((group) => group.row))) {
    await transaction
      .insertInto("federation_raft_groups")
      .values(rows)
      .onConflict((conflict) =>
        conflict.columns(["room_id", "node_id"]).doUpdateSet((update) => ({
          hard_term: update.ref("excluded.hard_term"),
          hard_vote: update.ref("excluded.hard_vote"),
          hard_commit: update.ref("excluded.hard_commit"),
          snapshot_index: update.ref("excluded.snapshot_index"),
          snapshot_term: update.ref("excluded.snapshot_term"),
          snapshot_conf_state: update.ref("excluded.snapshot_conf_state"),
          snapshot_data: update.ref("excluded.snapshot_data"),
          offset_index: update.ref("excluded.offset_index"),
          offset_term: update.ref("excluded.offset_term"),
        })),
      )
      .execute();
  }
  // A retry of a batch whose commit was in fact durable finds its entries
  // there already: replacing them keeps the retry harmless.
  for (const rows of chunks(groups.flatMap((group) => group.entries))) {
    await transaction
      .insertInto("federation_raft_entries")
      .values(rows)
      .onConflict((conflict) =>
        conflict.columns(["room_id", "node_id", "log_index"]).doUpdateSet((update) => ({
          term: update.ref("excluded.term"),
          entry_type: update.ref("excluded.entry_type"),
          data: update.ref("excluded.data"),
          change: update.ref("excluded.change"),
        })),
      )
      .execute();
  }
}

async function writeLeafLog(transaction: FederationTransaction, log: LeafLogRows): Promise<void> {
  if (log.replaced) {
    await transaction
      .deleteFrom("federation_leaf_records")
      .where("room_id", "=", log.room)
      .execute();
  }
  if (log.snapshot !== null) {
    const { room_id: _room, ...columns } = log.snapshot;
    await transaction
      .insertInto("federation_leaf_snapshots")
      .values(log.snapshot)
      .onConflict((conflict) => conflict.column("room_id").doUpdateSet(columns))
      .execute();
  }
  for (const rows of chunks(log.records)) {
    await transaction
      .insertInto("federation_leaf_records")
      .values(rows)
      .onConflict((conflict) => conflict.columns(["room_id", "position"]).doNothing())
      .execute();
  }
}

export async function writeBatchRows(db: FederationDatabase, rows: BatchRows): Promise<void> {
  await db.transaction().execute((transaction) => writeBatchRowsIn(transaction, rows));
}

/** The same writes inside a transaction someone else commits (one commit for the core's and the stream's writes). */
export async function writeBatchRowsIn(
  transaction: FederationDatabase,
  rows: BatchRows,
): Promise<void> {
  for (const { room, node } of rows.destroyedGroups) await deleteGroup(transaction, room, node);
  await writeGroups(transaction, rows.groups);
  for (const room of rows.rooms) {
    const { room_id: _room, ...columns } = room;
    await transaction
      .insertInto("federation_rooms")
      .values(room)
      .onConflict((conflict) => conflict.column("room_id").doUpdateSet(columns))
      .execute();
  }
  for (const certificate of rows.certificates) {
    const { room_id: _room, ...columns } = certificate;
    await transaction
      .insertInto("federation_certificates")
      .values(certificate)
      .onConflict((conflict) => conflict.column("room_id").doUpdateSet(columns))
      .execute();
  }
  for (const messages of chunks(rows.messages)) {
    await transaction
      .insertInto("federation_messages")
      .values(messages)
      .onConflict((conflict) => conflict.columns(["room_id", "origin", "sequence"]).doNothing())
      .execute();
  }
  for (const log of rows.leafLogs) await writeLeafLog(transaction, log);
}
