// What every repository is built from, and the checks they share. The checks
// are assertions on the caller: values from outside were validated at the edge
// already, so a failure here is a bug upstream and throws StorageError.

import type { Kysely, SelectQueryBuilder } from "kysely";
import { identifierLengthMax, pageSizeMax } from "../../limits.ts";
import type { Database } from "../database-schema.ts";
import { StorageError } from "../errors.ts";
import type { StorageDialect } from "../storage.ts";

export interface RepositoryContext {
  readonly db: Kysely<Database>;
  readonly dialect: StorageDialect;
}

/**
 * Adds FOR UPDATE on PostgreSQL, where concurrent transactions must wait for
 * the row. SQLite has no row locks and needs none: every transaction begins
 * IMMEDIATE and so holds the database's single write lock.
 */
export function lockingRows<DB, TB extends keyof DB, O>(
  context: RepositoryContext,
  query: SelectQueryBuilder<DB, TB, O>,
): SelectQueryBuilder<DB, TB, O> {
  return context.dialect === "postgres" ? query.forUpdate() : query;
}

export function assertIdentifier(what: string, value: string): void {
  if (value.length === 0 || value.length > identifierLengthMax) {
    throw new StorageError(
      "invalid-input",
      `${what} must be 1 to ${identifierLengthMax} characters`,
    );
  }
}

export function assertBytesMax(what: string, value: Uint8Array, bytesMax: number): void {
  if (value.byteLength > bytesMax) {
    throw new StorageError("invalid-input", `${what} exceeds ${bytesMax} bytes`);
  }
}

/** Positions, indexes, sequences and times: safe integers, at least `minimum`. */
export function assertInteger(what: string, value: number, minimum: number): void {
  if (!Number.isSafeInteger(value) || value < minimum) {
    throw new StorageError("invalid-input", `${what} must be an integer >= ${minimum}`);
  }
}

export function assertLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > pageSizeMax) {
    throw new StorageError("invalid-input", `a page limit must be 1 to ${pageSizeMax}`);
  }
}

/** Turns a limit+1 read into a page: the extra row only says that more exist. */
export function toPage<Row, Item>(
  rows: readonly Row[],
  limit: number,
  map: (row: Row) => Item,
): { items: Item[]; more: boolean } {
  return { items: rows.slice(0, limit).map(map), more: rows.length > limit };
}

export function sameBytes(left: Uint8Array, right: Uint8Array): boolean {
  return Buffer.from(left.buffer, left.byteOffset, left.byteLength).equals(right);
}
