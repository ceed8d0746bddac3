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
//   statement's promise resolves only after that sync, and every statement
//   run meanwhile — a reader too — resolves only after the syncs in flight, so
//   nobody learns of a write before it is on disk. The connection itself is
//   handed on as soon as the COMMIT has run, not after its sync: the next
//   transaction runs while the disk syncs the last one (pipelined commits; a
//   sync covers everything written before it started). NORMAL still syncs
//   the WAL before a checkpoint and its header when the WAL is reused
//   (SQLite's own rules), so with the per-commit sync this is as durable as
//   FULL. In-memory databases keep FULL and need no sync.
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

/**
 * Syncs the WAL file; opened at the first sync (SQLite creates it at the first
 * write). Syncs may overlap: each resolves only once every sync started
 * before it has resolved too, so "synced" always means everything written
 * so far is on disk.
 */
class WalSync {
  readonly #path: string;
  readonly #synced: () => void;
  #handle: Promise<FileHandle> | null = null;
  /** Resolves once every sync started so far is done; null when none is pending. */
  #pending: Promise<void> | null = null;

  constructor(path: string, synced: () => void) {
    this.#path = path;
    this.#synced = synced;
  }

  /** What a statement that read (but did not write) waits for: the syncs in flight. */
  get pending(): Promise<void> | null {
    return this.#pending;
  }

  sync(): Promise<void> {
    this.#handle ??= open(this.#path, "r+");
    const handle = this.#handle;
    const own = handle.then((file) => file.datasync());
    const previous = this.#pending;
    const all = (previous === null ? own : Promise.all([previous, own])).then(() => {
      this.#synced();
    });
    this.#pending = all;
    const settled = () => {
      if (this.#pending === all) this.#pending = null;
    };
    all.then(settled, settled);
    return all;
  }

  async close(): Promise<void> {
    await this.#pending?.catch(() => {});
    const handle = this.#handle;
    this.#handle = null;
    await (await handle)?.close();
  }
}

/**
 * The one connection. A statement run outside a transaction (an autocommit
 * statement, or the COMMIT or ROLLBACK that ends one) hands the connection on
 * to the next caller at once, then answers only once what it saw is durable:
 * after a sync of its own if anything was written since the last sync, else
 * after the syncs already in flight. So the next transaction runs (and its
 * COMMIT starts its own sync) while the previous one's sync is still on the
 * disk — commits are pipelined — and still nobody learns of a write before it
 * is on disk: whoever read it waits for the sync that covers it.
 */
class DurableSqliteConnection {
  readonly #database: BetterSqlite3.Database;
  readonly #wal: WalSync | null;
  readonly #statements = new Map<string, BetterSqlite3.Statement>();
  /** A statement wrote since the last sync. */
  #unsynced = false;

  constructor(database: BetterSqlite3.Database, wal: WalSync | null) {
    this.#database = database;
    this.#wal = wal;
  }

  /** Runs the statement; `handOn` is called as soon as the connection may serve someone else. */
  async executeQuery<Row>(
    compiledQuery: CompiledQuery,
    handOn: () => void,
  ): Promise<QueryResult<Row>> {
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
    if (this.#database.inTransaction || this.#wal === null) return result;
    let durable = this.#wal.pending;
    if (this.#unsynced) {
      this.#unsynced = false;
      durable = this.#wal.sync();
    }
    handOn();
    await durable;
    return result;
  }

  async *streamQuery<Row>(compiledQuery: CompiledQuery): AsyncIterableIterator<QueryResult<Row>> {
    // Nothing not yet durable is shown, as for executeQuery.
    await this.#wal?.pending;
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
 * One caller's hold on the connection, from acquireConnection until it is
 * handed on (after a statement outside a transaction) or released. A lease
 * used again after it was handed on queues for the connection anew, so
 * several autocommit statements on one Kysely connection stay correct.
 */
class ConnectionLease implements DatabaseConnection {
  readonly #driver: DurableSqliteDriver;
  readonly #connection: DurableSqliteConnection;
  #release: (() => void) | null;

  constructor(
    driver: DurableSqliteDriver,
    connection: DurableSqliteConnection,
    release: () => void,
  ) {
    this.#driver = driver;
    this.#connection = connection;
    this.#release = release;
  }

  async executeQuery<Row>(compiledQuery: CompiledQuery): Promise<QueryResult<Row>> {
    if (this.#release === null) this.#release = await this.#driver.lock();
    return this.#connection.executeQuery<Row>(compiledQuery, () => this.release());
  }

  async *streamQuery<Row>(compiledQuery: CompiledQuery): AsyncIterableIterator<QueryResult<Row>> {
    if (this.#release === null) this.#release = await this.#driver.lock();
    yield* this.#connection.streamQuery<Row>(compiledQuery);
  }

  release(): void {
    const release = this.#release;
    this.#release = null;
    release?.();
  }
}

/**
 * One connection (SQLite's), lent to one query or transaction at a time, in
 * the order asked for. Savepoints are not offered (nothing here uses them).
 */
class DurableSqliteDriver implements Driver {
  readonly #database: BetterSqlite3.Database;
  readonly #wal: WalSync | null;
  readonly #connection: DurableSqliteConnection;
  #lock: Promise<void> = Promise.resolve();

  constructor(database: BetterSqlite3.Database, wal: WalSync | null) {
    this.#database = database;
    this.#wal = wal;
    this.#connection = new DurableSqliteConnection(database, this.#wal);
  }

  async init(): Promise<void> {}

  /** Waits for the connection; resolves with the function that hands it on. */
  async lock(): Promise<() => void> {
    const previous = this.#lock;
    let release = () => {};
    this.#lock = new Promise((resolve) => {
      release = resolve;
    });
    await previous;
    return release;
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new ConnectionLease(this, this.#connection, await this.lock());
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

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    if (connection instanceof ConnectionLease) connection.release();
  }

  async destroy(): Promise<void> {
    await this.#wal?.close();
    this.#database.close();
  }
}
