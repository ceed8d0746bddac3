// Opens the embedded SQLite database through better-sqlite3.
//
// - WAL journal: readers never block the writer, and a crash leaves the file
//   consistent.
// - Durable commits without blocking the event loop. The design promises that
//   a message the sender was told is accepted is never lost, so every commit
//   must reach the disk before anyone learns of it. better-sqlite3 runs on the
//   main thread, and with synchronous=FULL its fsync (3–10 ms on the
//   benchmark machine's disk) froze every socket for that long, once per
//   transaction. So file databases run with synchronous=NORMAL (SQLite writes
//   the WAL but does not sync it at commit) and this driver syncs the WAL
//   file itself with an asynchronous fdatasync after every statement that
//   ends a write outside a transaction (COMMIT, or an autocommit write). The
//   statement's promise resolves only after that sync, and the one connection
//   stays held until then: no other query of this process — no reader — sees
//   the write before it is on disk. NORMAL still syncs the WAL before a
//   checkpoint and its header when the WAL is reused (SQLite's own rules), so
//   with the per-commit sync this is as durable as FULL. In-memory databases
//   keep FULL and need no sync.
// - busy timeout: another process holding the write lock is waited for, up to
//   limits.sqliteBusyTimeoutMs.
// - foreign keys on: SQLite leaves them off unless asked.
// - BEGIN IMMEDIATE for every transaction: it takes the write lock up front. A
//   deferred transaction that reads first and writes later can fail at once
//   with SQLITE_BUSY when another process committed in between, which no busy
//   timeout cures. All our transactions write, so taking the lock early is
//   free.
// - Prepared statements are cached by SQL text (bounded): Kysely compiles the
//   same few statements over and over, and preparing each afresh cost as much
//   as running it.

import { type FileHandle, open } from "node:fs/promises";
import BetterSqlite3 from "better-sqlite3";
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  SqliteDialect,
} from "kysely";
import { sqliteBusyTimeoutMs, sqliteStatementsCachedMax } from "../../limits.ts";

export interface SqliteDialectOptions {
  /** Told after each WAL sync (a commit made durable): for tests and metrics. */
  readonly synced?: () => void;
}

export function createSqliteDialect(
  path: string,
  options: SqliteDialectOptions = {},
): SqliteDialect {
  const database = new BetterSqlite3(path);
  const mode = String(database.pragma("journal_mode = WAL", { simple: true })).toLowerCase();
  const walPath = mode === "wal" ? `${path}-wal` : null;
  database.pragma(walPath === null ? "synchronous = FULL" : "synchronous = NORMAL");
  database.pragma(`busy_timeout = ${sqliteBusyTimeoutMs}`);
  database.pragma("foreign_keys = ON");
  const wal = walPath === null ? null : new WalSync(walPath, options.synced ?? (() => {}));
  return new DurableSqliteDialect(database, wal);
}

class DurableSqliteDialect extends SqliteDialect {
  readonly #database: BetterSqlite3.Database;
  readonly #wal: WalSync | null;

  constructor(database: BetterSqlite3.Database, wal: WalSync | null) {
    super({ database });
    this.#database = database;
    this.#wal = wal;
  }

  override createDriver(): Driver {
    return new DurableSqliteDriver(this.#database, this.#wal);
  }
}

/** Syncs the WAL file; opened at the first sync (SQLite creates it at the first write). */
class WalSync {
  readonly #path: string;
  readonly #synced: () => void;
  #handle: FileHandle | null = null;

  constructor(path: string, synced: () => void) {
    this.#path = path;
    this.#synced = synced;
  }

  async sync(): Promise<void> {
    this.#handle ??= await open(this.#path, "r+");
    await this.#handle.datasync();
    this.#synced();
  }

  async close(): Promise<void> {
    await this.#handle?.close();
    this.#handle = null;
  }
}

class DurableSqliteConnection implements DatabaseConnection {
  readonly #database: BetterSqlite3.Database;
  readonly #wal: WalSync | null;
  readonly #statements = new Map<string, BetterSqlite3.Statement>();
  /** A statement wrote since the last sync. */
  #unsynced = false;

  constructor(database: BetterSqlite3.Database, wal: WalSync | null) {
    this.#database = database;
    this.#wal = wal;
  }

  async executeQuery<Row>(compiledQuery: CompiledQuery): Promise<QueryResult<Row>> {
    const statement = this.#prepare(compiledQuery.sql);
    const parameters = compiledQuery.parameters as unknown[];
    let result: QueryResult<Row>;
    if (statement.reader) {
      result = { rows: statement.all(parameters) as Row[] };
    } else {
      const { changes, lastInsertRowid } = statement.run(parameters);
      result = { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
    }
    // Writes become durable once no transaction is open (committed, or an
    // autocommit write) and the WAL is synced. SQLite calls COMMIT itself
    // read-only, so what counts is whether anything wrote since the last sync.
    if (!statement.readonly) this.#unsynced = true;
    if (this.#wal !== null && this.#unsynced && !this.#database.inTransaction) {
      this.#unsynced = false;
      await this.#wal.sync();
    }
    return result;
  }

  async *streamQuery<Row>(compiledQuery: CompiledQuery): AsyncIterableIterator<QueryResult<Row>> {
    // Not cached: an iterating statement is busy until the iteration ends.
    const statement = this.#database.prepare(compiledQuery.sql);
    for (const row of statement.iterate(compiledQuery.parameters as unknown[])) {
      yield { rows: [row as Row] };
    }
  }

  #prepare(sql: string): BetterSqlite3.Statement {
    const cached = this.#statements.get(sql);
    if (cached !== undefined) return cached;
    const statement = this.#database.prepare(sql);
    if (this.#statements.size >= sqliteStatementsCachedMax) {
      const oldest = this.#statements.keys().next();
      if (oldest.done !== true) this.#statements.delete(oldest.value);
    }
    this.#statements.set(sql, statement);
    return statement;
  }
}

/**
 * One connection (SQLite's), lent to one query or transaction at a time.
 * Savepoints are not offered (nothing here uses them).
 */
class DurableSqliteDriver implements Driver {
  readonly #database: BetterSqlite3.Database;
  readonly #wal: WalSync | null;
  readonly #connection: DurableSqliteConnection;
  #lock: Promise<void> = Promise.resolve();
  #release: (() => void) | null = null;

  constructor(database: BetterSqlite3.Database, wal: WalSync | null) {
    this.#database = database;
    this.#wal = wal;
    this.#connection = new DurableSqliteConnection(database, this.#wal);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    const previous = this.#lock;
    let release = () => {};
    this.#lock = new Promise((resolve) => {
      release = resolve;
    });
    await previous;
    this.#release = release;
    return this.#connection;
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("begin immediate"));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("commit"));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("rollback"));
  }

  async releaseConnection(): Promise<void> {
    const release = this.#release;
    this.#release = null;
    release?.();
  }

  async destroy(): Promise<void> {
    await this.#wal?.close();
    this.#database.close();
  }
}
