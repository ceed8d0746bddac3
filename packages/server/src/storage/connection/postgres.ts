// Opens a PostgreSQL connection pool through node-postgres.
//
// - bigint (int8) columns, and count(*), arrive as JavaScript numbers; a value
//   beyond Number.MAX_SAFE_INTEGER is refused rather than rounded.
// - `search_path` is set per connection to the configured schema, so tables
//   are found unqualified and several schemas (tests, staging) can share one
//   database.
// - Transactions run at READ COMMITTED, PostgreSQL's default; where ordering
//   matters the repositories take explicit row locks (see repositories/).

import { PostgresDialect } from "kysely";
import pg from "pg";
import { postgresConnectTimeoutMs } from "../../limits.ts";
import { StorageError } from "../errors.ts";

const int8TypeId = 20;

function parseSafeInteger(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    throw new StorageError("database-failed", "a bigint column exceeds the safe integer range");
  }
  return value;
}

// pg declares getTypeParser as two overloads (text and binary results), which
// one function cannot satisfy without a cast; this one keeps pg's behaviour for
// every type but int8 in text format, the only format Kysely uses.
const getTypeParser = ((typeId: number, format?: "text" | "binary") =>
  typeId === int8TypeId && format !== "binary"
    ? parseSafeInteger
    : pg.types.getTypeParser(typeId, format ?? "text")) as typeof pg.types.getTypeParser;

const schemaNamePattern = /^[a-z_][a-z0-9_]{0,62}$/;

export function assertSchemaName(schema: string): void {
  if (!schemaNamePattern.test(schema)) {
    throw new StorageError(
      "invalid-input",
      "a PostgreSQL schema name must be lowercase letters, digits and underscores",
    );
  }
}

export interface PostgresConnection {
  readonly dialect: PostgresDialect;
  readonly pool: pg.Pool;
}

export function createPostgresDialect(input: {
  url: string;
  schema: string;
  poolSize: number;
  onIdleClientError: (error: Error) => void;
}): PostgresConnection {
  assertSchemaName(input.schema);
  const pool = new pg.Pool({
    connectionString: input.url,
    max: input.poolSize,
    connectionTimeoutMillis: postgresConnectTimeoutMs,
    options: `-c search_path=${input.schema}`,
    types: { getTypeParser },
  });
  // An idle client losing its server connection emits 'error' on the pool; an
  // unhandled 'error' event would end the process.
  pool.on("error", input.onIdleClientError);
  return { dialect: new PostgresDialect({ pool }), pool };
}
