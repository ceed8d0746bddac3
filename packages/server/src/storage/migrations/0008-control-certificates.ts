// Each room's newest control certificate (docs/protocol.md §12.6.1), so a
// restarted server still holds the proof that its applied state was
// certified: a leaf's applied index stays covered, and a sponsor answers
// with it at once instead of waiting for the sponsors to certify again.
// One row per room, replaced when a newer certificate arrives. Migrations
// are never edited once released.

import type { Kysely, Migration } from "kysely";
import type { StorageDialect } from "../storage.ts";

export function controlCertificatesMigration(dialect: StorageDialect): Migration {
  const bytes = dialect === "postgres" ? "bytea" : "blob";
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable("federation_certificates")
        .addColumn("room_id", "text", (column) => column.primaryKey())
        .addColumn("control_index", "bigint", (column) => column.notNull())
        .addColumn("chain_hash", bytes, (column) => column.notNull())
        // A JSON array of [server name, base64url signature], sorted by server.
        .addColumn("signatures", "text", (column) => column.notNull())
        .execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable("federation_certificates").execute();
    },
  };
}
