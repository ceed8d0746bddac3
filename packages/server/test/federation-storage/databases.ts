// The databases the federation storage tests run on: a SQLite file in a
// temporary directory, and PostgreSQL (a fresh schema per database) when
// PARLEY_TEST_POSTGRES_URL is set. In CI a missing PostgreSQL fails the run,
// as the homeserver's own storage suite does.

import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { describe, it } from "vitest";
import {
  DatabaseFederationStorage,
  type DatabaseFederationStorageOptions,
  openStorage,
  type Storage,
} from "../../src/index.ts";

export const postgresUrlVariable = "PARLEY_TEST_POSTGRES_URL";
const postgresUrl = process.env[postgresUrlVariable] ?? "";
const ciValue = process.env["CI"] ?? "";
export const inCi = ciValue !== "" && ciValue !== "false";

/** One test database: open the storage on it as often as a restart needs. */
export interface TestDatabase {
  /** Opens a homeserver storage handle and the federation storage over it (closed by `destroy`). */
  open(options?: DatabaseFederationStorageOptions): Promise<DatabaseFederationStorage>;
  /** Closes the handles opened so far (a "crash" when nothing was flushed). */
  closeAll(): Promise<void>;
  destroy(): Promise<void>;
}

export interface TestDatabaseKind {
  readonly name: string;
  /** Null when the database is not available here (PostgreSQL without its variable). */
  readonly create: (() => Promise<TestDatabase>) | null;
}

function tracking(openHandle: () => Promise<Storage>, cleanup: () => Promise<void>): TestDatabase {
  let handles: Storage[] = [];
  let migrated = false;
  const closeAll = async () => {
    const closing = handles;
    handles = [];
    await Promise.all(closing.map((handle) => handle.close()));
  };
  return {
    async open(options = {}) {
      const handle = await openHandle();
      handles.push(handle);
      if (!migrated) {
        await handle.migrations.migrateToLatest();
        migrated = true;
      }
      return DatabaseFederationStorage.open(handle.database, options);
    },
    closeAll,
    async destroy() {
      await closeAll();
      await cleanup();
    },
  };
}

const sqlite: TestDatabaseKind = {
  name: "SQLite",
  async create() {
    const directory = await mkdtemp(join(tmpdir(), "parley-federation-"));
    const path = join(directory, "parley.sqlite");
    return tracking(
      () => openStorage({ kind: "sqlite", path }),
      () => rm(directory, { recursive: true, force: true }),
    );
  },
};

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}

const postgres: TestDatabaseKind = {
  name: "PostgreSQL",
  create:
    postgresUrl === ""
      ? null
      : async () => {
          const schema = `parley_test_${randomBytes(6).toString("hex")}`;
          return tracking(
            () => openStorage({ kind: "postgres", url: postgresUrl, schema, poolSize: 2 }),
            () => dropSchema(schema),
          );
        },
};

export const testDatabaseKinds: readonly TestDatabaseKind[] = [sqlite, postgres];

/**
 * Runs `body` once per database kind. Without PostgreSQL's variable the
 * PostgreSQL half is reported as skipped, with the reason (and fails in CI).
 */
export function describeOnDatabases(
  title: string,
  body: (create: () => Promise<TestDatabase>) => void,
): void {
  for (const kind of testDatabaseKinds) {
    const create = kind.create;
    if (create !== null) {
      describe(`${title} on ${kind.name}`, () => body(create));
    } else if (inCi) {
      describe(`${title} on ${kind.name}`, () => {
        it(`needs ${postgresUrlVariable} in CI`, () => {
          throw new Error(`${postgresUrlVariable} is not set`);
        });
      });
    } else {
      describe.skip(`${title} on ${kind.name} (skipped: ${postgresUrlVariable} not set)`, () => {
        it("runs when the variable is set", () => {});
      });
    }
  }
}
