// What a storage backend gives the shared contract suite: a way to open a
// fresh, empty database per test, and (where the backend can be shared by
// several processes) a second handle on the same database.

import type { Storage } from "../../src/index.ts";

export interface FreshDatabase {
  /** Open on an empty database; the suite migrates it. */
  readonly storage: Storage;
  /**
   * Another handle on the same database, with its own connections, as a second
   * homeserver process would have. Null where the backend cannot be shared in
   * one process (SQLite's synchronous driver; see the SQLite process test).
   */
  readonly openAnother: (() => Promise<Storage>) | null;
  /** Closes every handle opened here and removes the database. */
  destroy(): Promise<void>;
}

export interface StorageFactory {
  /**
   * Whether `openAnother` works for this backend. Backends that cannot be
   * shared in one process do not run the concurrency stories at all (rather
   * than skipping them); the SQLite multi-process test covers that backend.
   */
  readonly sharedAcrossHandles: boolean;
  openFresh(): Promise<FreshDatabase>;
}
