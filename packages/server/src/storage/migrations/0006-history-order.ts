// The history order of docs/protocol.md §12.4.3 on every room event: the
// stamp's origin (the accepting sponsor's node id) and that origin's sequence,
// and a rank that puts the control entry at index i before the messages
// stamped at i (they were accepted with i applied). The history route pages by
// (control_index, history_rank, accepted_at_ms, origin, origin_sequence,
// room_sequence); the last column only breaks ties between events stored
// before this migration, whose origin is unknown (''). Migrations are never
// edited once released.

import { type Kysely, type Migration, sql } from "kysely";
import type { StorageDialect } from "../storage.ts";

/** The rank of a control event; messages have rank 1. */
export const controlHistoryRank = 0;
export const messageHistoryRank = 1;

export function historyOrderMigration(dialect: StorageDialect): Migration {
  // Origins compare bytewise (§12.4.3): SQLite's default collation does,
  // PostgreSQL's needs the "C" collation.
  const originType = dialect === "postgres" ? sql`text collate "C"` : sql`text`;
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable("room_events")
        .addColumn("history_rank", "integer", (column) =>
          column.notNull().defaultTo(messageHistoryRank),
        )
        .execute();
      await db.schema
        .alterTable("room_events")
        .addColumn("origin", originType, (column) => column.notNull().defaultTo(""))
        .execute();
      await db.schema
        .alterTable("room_events")
        .addColumn("origin_sequence", "bigint", (column) => column.notNull().defaultTo(0))
        .execute();
      await sql`update room_events set history_rank = ${controlHistoryRank}
        where content_type = 'application/vnd.parley.control+cbor'`.execute(db);
      await db.schema
        .createIndex("room_events_by_history")
        .on("room_events")
        .columns([
          "room_id",
          "control_index",
          "history_rank",
          "accepted_at_ms",
          "origin",
          "origin_sequence",
          "room_sequence",
        ])
        .execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex("room_events_by_history").execute();
      await db.schema.alterTable("room_events").dropColumn("origin_sequence").execute();
      await db.schema.alterTable("room_events").dropColumn("origin").execute();
      await db.schema.alterTable("room_events").dropColumn("history_rank").execute();
    },
  };
}
