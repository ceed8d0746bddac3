// The federation cores' tables (docs/protocol.md §12.9): each sponsored room's
// Raft log, the rooms' stored messages, the per-room membership record, and a
// leaf's copy of the control log. Only packages/server/src/federation/storage
// reads and writes them, through an in-memory mirror that it flushes in one
// transaction per processing round.

import { type Kysely, type Migration, sql } from "kysely";
import type { StorageDialect } from "../storage.ts";

export function federationMigration(dialect: StorageDialect): Migration {
  const bytes = dialect === "postgres" ? "bytea" : "blob";
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable("federation_rooms")
        .addColumn("room_id", "text", (column) => column.primaryKey())
        // A JSON array of server names: a handful, read once at start.
        .addColumn("contacts", "text", (column) => column.notNull())
        .addColumn("node_id", "text")
        .addColumn("retired_incarnation", "bigint", (column) => column.notNull())
        .execute();

      // One row per Raft group this server runs: the hard state, the newest
      // snapshot, and the compaction point (the log starts after
      // offset_index; it may lie before the snapshot's index).
      await db.schema
        .createTable("federation_raft_groups")
        .addColumn("room_id", "text", (column) => column.notNull())
        .addColumn("node_id", "text", (column) => column.notNull())
        .addColumn("hard_term", "bigint", (column) => column.notNull())
        .addColumn("hard_vote", "text")
        .addColumn("hard_commit", "bigint", (column) => column.notNull())
        .addColumn("snapshot_index", "bigint", (column) => column.notNull())
        .addColumn("snapshot_term", "bigint", (column) => column.notNull())
        .addColumn("snapshot_conf_state", "text", (column) => column.notNull())
        .addColumn("snapshot_data", bytes, (column) => column.notNull())
        .addColumn("offset_index", "bigint", (column) => column.notNull())
        .addColumn("offset_term", "bigint", (column) => column.notNull())
        .addPrimaryKeyConstraint("federation_raft_groups_primary_key", ["room_id", "node_id"])
        .execute();

      // The entries after each group's compaction point. `data` is a normal
      // entry's payload or a configuration change's context; `change` holds
      // the rest of a change as JSON.
      await db.schema
        .createTable("federation_raft_entries")
        .addColumn("room_id", "text", (column) => column.notNull())
        .addColumn("node_id", "text", (column) => column.notNull())
        .addColumn("log_index", "bigint", (column) => column.notNull().check(sql`log_index >= 1`))
        .addColumn("term", "bigint", (column) => column.notNull())
        .addColumn("entry_type", "text", (column) =>
          column.notNull().check(sql`entry_type in ('normal', 'confChange')`),
        )
        .addColumn("data", bytes, (column) => column.notNull())
        .addColumn("change", "text")
        .addPrimaryKeyConstraint("federation_raft_entries_primary_key", [
          "room_id",
          "node_id",
          "log_index",
        ])
        .execute();

      await db.schema
        .createTable("federation_messages")
        .addColumn("room_id", "text", (column) => column.notNull())
        .addColumn("origin", "text", (column) => column.notNull())
        .addColumn("sequence", "bigint", (column) => column.notNull().check(sql`sequence >= 1`))
        .addColumn("control_index", "bigint", (column) => column.notNull())
        .addColumn("accepted_at_ms", "bigint", (column) => column.notNull())
        .addColumn("sender", "text", (column) => column.notNull())
        .addColumn("client_message_id", "text", (column) => column.notNull())
        .addColumn("body", bytes, (column) => column.notNull())
        .addColumn("verdict", "text", (column) =>
          column.notNull().check(sql`verdict in ('allowed', 'refused')`),
        )
        // The id of a message; a repeated put is "on conflict do nothing".
        .addPrimaryKeyConstraint("federation_messages_primary_key", [
          "room_id",
          "origin",
          "sequence",
        ])
        .execute();

      await db.schema
        .createTable("federation_leaf_snapshots")
        .addColumn("room_id", "text", (column) => column.primaryKey())
        .addColumn("control_index", "bigint", (column) => column.notNull())
        .addColumn("chain_hash", bytes, (column) => column.notNull())
        .addColumn("state", bytes, (column) => column.notNull())
        // A JSON array of [server, incarnation] pairs.
        .addColumn("incarnations", "text", (column) => column.notNull())
        .execute();

      // A leaf's records after its snapshot, in the order they were appended.
      await db.schema
        .createTable("federation_leaf_records")
        .addColumn("room_id", "text", (column) => column.notNull())
        .addColumn("position", "bigint", (column) => column.notNull())
        .addColumn("control_index", "bigint", (column) => column.notNull())
        .addColumn("chain_hash", bytes, (column) => column.notNull())
        .addColumn("record", bytes, (column) => column.notNull())
        .addPrimaryKeyConstraint("federation_leaf_records_primary_key", ["room_id", "position"])
        .execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      const tables = [
        "federation_leaf_records",
        "federation_leaf_snapshots",
        "federation_messages",
        "federation_raft_entries",
        "federation_raft_groups",
        "federation_rooms",
      ];
      for (const table of tables) {
        await db.schema.dropTable(table).execute();
      }
    },
  };
}
