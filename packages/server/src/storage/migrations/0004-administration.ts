// Operator administration (docs/protocol.md §10.11): the per-homeserver block
// list. Invite tokens and account deactivation use tables of the first schema;
// revoking an invite token deletes its row, so nothing else changes there.

import type { Kysely, Migration } from "kysely";

export function administrationMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable("server_blocks")
        .addColumn("server_name", "text", (column) => column.primaryKey())
        .addColumn("reason", "text", (column) => column.notNull())
        .addColumn("blocked_at_ms", "bigint", (column) => column.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable("server_blocks").execute();
    },
  };
}
