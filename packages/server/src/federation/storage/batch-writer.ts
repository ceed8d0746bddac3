// Writes one batch of rows in one transaction: all of it becomes visible at
// commit or none of it does (a crash mid-flush leaves the previous flush's
// state). Every statement is an upsert, a delete or an insert that ignores
// an existing key, so writing the same batch twice gives the same rows.
// On SQLite the commit is durable when it returns (WAL, synchronous=FULL,
// storage/connection/sqlite.ts); on PostgreSQL when COMMIT returns.

import type { Transaction } from "kysely";
import { federationInsertRowsMax } from "../../limits.ts";
import type { Database } from "../../storage/database-schema.ts";
import type { BatchRows, GroupRows, LeafLogRows } from "./batch-rows.ts";
import type { FederationDatabase, FederationTables } from "./federation-tables.ts";

type FederationTransaction = Transaction<Database & FederationTables>;

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

async function writeGroup(transaction: FederationTransaction, group: GroupRows): Promise<void> {
  const { room_id: _room, node_id: _node, ...columns } = group.row;
  await transaction
    .insertInto("federation_raft_groups")
    .values(group.row)
    .onConflict((conflict) => conflict.columns(["room_id", "node_id"]).doUpdateSet(columns))
    .execute();
  await transaction
    .deleteFrom("federation_raft_entries")
    .where("room_id", "=", group.room)
    .where("node_id", "=", group.node)
    .where((where) =>
      Number.isFinite(group.rewriteFromIndex)
        ? where.or([
            where("log_index", "<=", group.offsetIndex),
            where("log_index", ">=", group.rewriteFromIndex),
          ])
        : where("log_index", "<=", group.offsetIndex),
    )
    .execute();
  for (const rows of chunks(group.entries)) {
    await transaction.insertInto("federation_raft_entries").values(rows).execute();
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
  await db.transaction().execute(async (transaction) => {
    for (const { room, node } of rows.destroyedGroups) await deleteGroup(transaction, room, node);
    for (const group of rows.groups) await writeGroup(transaction, group);
    for (const room of rows.rooms) {
      const { room_id: _room, ...columns } = room;
      await transaction
        .insertInto("federation_rooms")
        .values(room)
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
  });
}
