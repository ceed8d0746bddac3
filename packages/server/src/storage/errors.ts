// The storage layer's one error class. Expected outcomes (a name taken, a
// duplicate, a stale write) are returned as tagged values, never thrown; a
// StorageError means a caller broke the contract or the database failed.
// The HTTP layer maps every StorageError to an internal error that reveals
// nothing; the code is for logs and metrics.

export type StorageErrorCode =
  /** A value breaks a documented bound (size, identifier length, position). */
  | "invalid-input"
  /** The event names a room that was never created: the caller skipped a check. */
  | "unknown-room"
  /** A migration failed; the database is left at the last good version. */
  | "migration-failed"
  /** The database rejected or could not run a query. */
  | "database-failed"
  /** The storage was closed. */
  | "closed";

export class StorageError extends Error {
  override readonly name = "StorageError";
  readonly code: StorageErrorCode;

  constructor(code: StorageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
