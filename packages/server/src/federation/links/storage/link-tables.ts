// Migration 0003: the tables of the server-to-server links. One row per peer
// holds the last durable sequence assigned to a frame for it (never reused,
// even when its queue is empty) and the receive high-water mark of its frames
// to us; one row per queued durable frame holds the payload until the peer
// acknowledges it. Written with Kysely's schema builder for both databases.

import type { Kysely, Migration } from "kysely";
import type { StorageDialect } from "../../../storage/storage.ts";

export type LinkPeersTable = {
  peer: string;
  last_sequence: number;
  received_sequence: number;
};

export type LinkOutboundTable = {
  peer: string;
  sequence: number;
  payload: Uint8Array;
};

export type LinkTables = {
  federation_link_peers: LinkPeersTable;
  federation_link_outbound: LinkOutboundTable;
};

export const linkMigrationName = "0003-federation-links";

export function linkMigration(dialect: StorageDialect): Migration {
  const bytes = dialect === "postgres" ? "bytea" : "blob";
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable("federation_link_peers")
        .addColumn("peer", "text", (column) => column.primaryKey())
        .addColumn("last_sequence", "bigint", (column) => column.notNull())
        .addColumn("received_sequence", "bigint", (column) => column.notNull())
        .execute();
      await db.schema
        .createTable("federation_link_outbound")
        .addColumn("peer", "text", (column) => column.notNull())
        .addColumn("sequence", "bigint", (column) => column.notNull())
        .addColumn("payload", bytes, (column) => column.notNull())
        .addPrimaryKeyConstraint("federation_link_outbound_key", ["peer", "sequence"])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable("federation_link_outbound").execute();
      await db.schema.dropTable("federation_link_peers").execute();
    },
  };
}
