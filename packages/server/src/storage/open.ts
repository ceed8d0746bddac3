// The one entry point: `openStorage(config)` picks the database, opens it and
// returns the repositories. It does not migrate: call
// `storage.migrations.migrateToLatest()` before using the repositories (the
// homeserver does at start; tests do it explicitly).

import { type Dialect, Kysely, sql } from "kysely";
import { createLinkQueueStorage } from "../federation/links/storage/link-queue-storage.ts";
import { postgresPoolSizeMax } from "../limits.ts";
import { assertSchemaName, createPostgresDialect } from "./connection/postgres.ts";
import { createSqliteDialect } from "./connection/sqlite.ts";
import type { Database } from "./database-schema.ts";
import { StorageError } from "./errors.ts";
import { createMigrationRunner } from "./migrations/migration-runner.ts";
import { createAccountRepository } from "./repositories/accounts.ts";
import { createAdministrationRepository } from "./repositories/administration.ts";
import type { RepositoryContext } from "./repositories/context.ts";
import { createDeviceRepository } from "./repositories/devices.ts";
import { createEventRepository } from "./repositories/events.ts";
import { createInboxRepository } from "./repositories/inboxes.ts";
import { createKeyPackageRepository } from "./repositories/key-packages.ts";
import { createRoomRepository } from "./repositories/rooms.ts";
import { createServerKeyRepository } from "./repositories/server-keys.ts";
import type { Storage, StorageDialect } from "./storage.ts";

export type StorageConfig =
  /** A file path, or ":memory:" for a private in-memory database (tests). */
  | { readonly kind: "sqlite"; readonly path: string }
  | {
      readonly kind: "postgres";
      /** postgres://user:password@host:port/database */
      readonly url: string;
      /** Tables live in this schema; several schemas may share one database. */
      readonly schema: string;
      readonly poolSize: number;
    };

export interface OpenStorageOptions {
  /** Told about errors no caller is waiting for (an idle PostgreSQL connection dropping). */
  readonly onBackgroundError?: (error: Error) => void;
}

export async function openStorage(
  config: StorageConfig,
  options: OpenStorageOptions = {},
): Promise<Storage> {
  const onBackgroundError = options.onBackgroundError ?? (() => {});
  let dialect: Dialect;
  let postgresSchema: string | null = null;
  if (config.kind === "sqlite") {
    dialect = createSqliteDialect(config.path);
  } else {
    assertSchemaName(config.schema);
    if (!Number.isSafeInteger(config.poolSize) || config.poolSize < 1) {
      throw new StorageError("invalid-input", "the pool size must be a positive integer");
    }
    postgresSchema = config.schema;
    dialect = createPostgresDialect({
      url: config.url,
      schema: config.schema,
      poolSize: Math.min(config.poolSize, postgresPoolSizeMax),
      onIdleClientError: onBackgroundError,
    }).dialect;
  }
  const db = new Kysely<Database>({ dialect });
  if (postgresSchema !== null && postgresSchema !== "public") {
    // "public" exists already, and creating it would need a privilege on the
    // database that an application role often lacks.
    await sql`create schema if not exists ${sql.id(postgresSchema)}`.execute(db);
  }
  return createStorage(db, config.kind, postgresSchema);
}

function createStorage(
  db: Kysely<Database>,
  dialect: StorageDialect,
  postgresSchema: string | null,
): Storage {
  const context: RepositoryContext = { db, dialect };
  let closed = false;
  return {
    dialect,
    migrations: createMigrationRunner(db, dialect, postgresSchema),
    database: context,
    serverKeys: createServerKeyRepository(context),
    accounts: createAccountRepository(context),
    devices: createDeviceRepository(context),
    rooms: createRoomRepository(context),
    events: createEventRepository(context),
    inboxes: createInboxRepository(context),
    administration: createAdministrationRepository(context),
    keyPackages: createKeyPackageRepository(context),
    federationLinks: createLinkQueueStorage(context),
    async ping() {
      if (closed) {
        throw new StorageError("closed", "storage is closed");
      }
      await sql`select 1`.execute(db);
    },
    async close() {
      if (!closed) {
        closed = true;
        await db.destroy();
      }
    },
  };
}
