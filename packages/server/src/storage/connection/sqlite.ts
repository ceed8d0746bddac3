// Opens the embedded SQLite database through better-sqlite3.
//
// - WAL journal: readers never block the writer, and a crash leaves the file
//   consistent.
// - synchronous=FULL: a transaction is on disk when COMMIT returns. The design
//   promises that a message the sender was told is accepted is never lost, and
//   NORMAL in WAL mode may drop the last commits on power loss (not on a mere
//   process crash). The cost is one fsync per commit, which batch appends
//   amortise.
// - busy timeout: another process holding the write lock is waited for, up to
//   limits.sqliteBusyTimeoutMs.
// - foreign keys on: SQLite leaves them off unless asked.
// - BEGIN IMMEDIATE for every transaction: it takes the write lock up front. A
//   deferred transaction that reads first and writes later can fail at once
//   with SQLITE_BUSY when another process committed in between, which no busy
//   timeout cures. All our transactions write, so taking the lock early is
//   free. (Within one process Kysely's SQLite driver runs one transaction at a
//   time on its single connection.)

import BetterSqlite3 from "better-sqlite3";
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type QueryCompiler,
  SqliteDialect,
  type TransactionSettings,
} from "kysely";
import { sqliteBusyTimeoutMs } from "../../limits.ts";

export function createSqliteDialect(path: string): SqliteDialect {
  const database = new BetterSqlite3(path);
  database.pragma("journal_mode = WAL");
  database.pragma("synchronous = FULL");
  database.pragma(`busy_timeout = ${sqliteBusyTimeoutMs}`);
  database.pragma("foreign_keys = ON");
  return new ImmediateTransactionSqliteDialect({ database });
}

class ImmediateTransactionSqliteDialect extends SqliteDialect {
  override createDriver(): Driver {
    return new ImmediateTransactionDriver(super.createDriver());
  }
}

class ImmediateTransactionDriver implements Driver {
  readonly #inner: Driver;

  constructor(inner: Driver) {
    this.#inner = inner;
  }

  init(): Promise<void> {
    return this.#inner.init();
  }

  acquireConnection(): Promise<DatabaseConnection> {
    return this.#inner.acquireConnection();
  }

  async beginTransaction(
    connection: DatabaseConnection,
    _settings: TransactionSettings,
  ): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("begin immediate"));
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#inner.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#inner.rollbackTransaction(connection);
  }

  async savepoint(
    connection: DatabaseConnection,
    savepointName: string,
    compileQuery: QueryCompiler["compileQuery"],
  ): Promise<void> {
    await this.#inner.savepoint?.(connection, savepointName, compileQuery);
  }

  async rollbackToSavepoint(
    connection: DatabaseConnection,
    savepointName: string,
    compileQuery: QueryCompiler["compileQuery"],
  ): Promise<void> {
    await this.#inner.rollbackToSavepoint?.(connection, savepointName, compileQuery);
  }

  async releaseSavepoint(
    connection: DatabaseConnection,
    savepointName: string,
    compileQuery: QueryCompiler["compileQuery"],
  ): Promise<void> {
    await this.#inner.releaseSavepoint?.(connection, savepointName, compileQuery);
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.#inner.releaseConnection(connection);
  }

  destroy(): Promise<void> {
    return this.#inner.destroy();
  }
}
