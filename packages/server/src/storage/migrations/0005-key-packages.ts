// KeyPackages that devices publish for others to add them to MLS groups
// (docs/protocol.md §13.4). One-time packages are deleted when claimed; each
// device has at most one last-resort package, replaced by a newer upload and
// never deleted by a claim. Both go with their device (cascade), so a deleted
// device leaves nothing behind. Migrations are never edited once released.

import type { Kysely, Migration } from "kysely";
import type { StorageDialect } from "../storage.ts";

export function keyPackagesMigration(dialect: StorageDialect): Migration {
  const bytes = dialect === "postgres" ? "bytea" : "blob";
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable("key_packages")
        .addColumn("device_id", "text", (column) =>
          column.notNull().references("devices.device_id").onDelete("cascade"),
        )
        // RFC 9420 §5.2 KeyPackageRef: a re-upload of the same package is found here.
        .addColumn("reference", bytes, (column) => column.notNull())
        .addColumn("key_package", bytes, (column) => column.notNull())
        .addColumn("not_after_ms", "bigint", (column) => column.notNull())
        .addColumn("published_at_ms", "bigint", (column) => column.notNull())
        .addPrimaryKeyConstraint("key_packages_primary_key", ["device_id", "reference"])
        .execute();
      // Claims take a device's oldest package first.
      await db.schema
        .createIndex("key_packages_by_age")
        .on("key_packages")
        .columns(["device_id", "published_at_ms"])
        .execute();
      // Expiry sweeps find old packages across all devices.
      await db.schema
        .createIndex("key_packages_by_expiry")
        .on("key_packages")
        .column("not_after_ms")
        .execute();

      await db.schema
        .createTable("last_resort_key_packages")
        .addColumn("device_id", "text", (column) =>
          column.primaryKey().references("devices.device_id").onDelete("cascade"),
        )
        .addColumn("reference", bytes, (column) => column.notNull())
        .addColumn("key_package", bytes, (column) => column.notNull())
        .addColumn("not_after_ms", "bigint", (column) => column.notNull())
        .addColumn("published_at_ms", "bigint", (column) => column.notNull())
        .execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable("last_resort_key_packages").execute();
      await db.schema.dropTable("key_packages").execute();
    },
  };
}
