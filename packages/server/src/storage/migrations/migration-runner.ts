// Runs the schema migrations with Kysely's Migrator. Migrations are code (not
// files found at run time), named so that they sort in order. On PostgreSQL the
// Migrator takes an advisory lock, so several processes starting together
// migrate once; on SQLite the write lock does the same.

import {
  type Kysely,
  type Migration,
  type MigrationProvider,
  Migrator,
  NO_MIGRATIONS,
} from "kysely";
import { linkMigration, linkMigrationName } from "../../federation/links/storage/link-tables.ts";
import type { Database } from "../database-schema.ts";
import { StorageError } from "../errors.ts";
import type { MigrationRunner, MigrationStatus, StorageDialect } from "../storage.ts";
import { initialMigration } from "./0001-initial.ts";
import { federationMigration } from "./0002-federation.ts";
import { administrationMigration } from "./0004-administration.ts";
import { keyPackagesMigration } from "./0005-key-packages.ts";
import { historyOrderMigration } from "./0006-history-order.ts";
import { originPositionsMigration } from "./0007-origin-positions.ts";
import { controlCertificatesMigration } from "./0008-control-certificates.ts";

const migrationTableName = "parley_migrations";
const migrationLockTableName = "parley_migration_lock";

function migrationsFor(dialect: StorageDialect): Record<string, Migration> {
  return {
    "0001-initial": initialMigration(dialect),
    "0002-federation": federationMigration(dialect),
    [linkMigrationName]: linkMigration(dialect),
    "0004-administration": administrationMigration(),
    "0005-key-packages": keyPackagesMigration(dialect),
    "0006-history-order": historyOrderMigration(dialect),
    "0007-origin-positions": originPositionsMigration(),
    "0008-control-certificates": controlCertificatesMigration(dialect),
  };
}

class CodeMigrationProvider implements MigrationProvider {
  readonly #migrations: Record<string, Migration>;

  constructor(migrations: Record<string, Migration>) {
    this.#migrations = migrations;
  }

  getMigrations(): Promise<Record<string, Migration>> {
    return Promise.resolve(this.#migrations);
  }
}

export function createMigrationRunner(
  db: Kysely<Database>,
  dialect: StorageDialect,
  postgresSchema: string | null,
): MigrationRunner {
  const migrator = new Migrator({
    db,
    provider: new CodeMigrationProvider(migrationsFor(dialect)),
    migrationTableName,
    migrationLockTableName,
    // Naming the schema keeps Kysely from finding another schema's migration
    // table in the same PostgreSQL database (tests run side by side that way).
    ...(postgresSchema === null ? {} : { migrationTableSchema: postgresSchema }),
  });

  return {
    async migrateToLatest(): Promise<readonly string[]> {
      const { error, results } = await migrator.migrateToLatest();
      if (error !== undefined) {
        throw new StorageError("migration-failed", "schema migration failed", { cause: error });
      }
      return (results ?? []).map((result) => result.migrationName);
    },

    async status(): Promise<readonly MigrationStatus[]> {
      const migrations = await migrator.getMigrations();
      return migrations.map((migration) => ({
        name: migration.name,
        appliedAtMs: migration.executedAt === undefined ? null : migration.executedAt.getTime(),
      }));
    },

    async migrateToEmpty(): Promise<void> {
      const { error } = await migrator.migrateTo(NO_MIGRATIONS);
      if (error !== undefined) {
        throw new StorageError("migration-failed", "schema rollback failed", { cause: error });
      }
    },
  };
}
