// Everything the browser client keeps across reloads, in one IndexedDB
// database of this origin:
// - `client`: the SDK's key-value store (device secret key, session, stream
//   cursor, unsent messages), as the SDK's `ClientStore` contract asks;
// - `cache`: what the page shows before the server answers — each room's
//   newest events and the user's read markers — keyed by user, so a second
//   account in the same browser never sees the first one's rooms.
// IndexedDB keeps structured values (Uint8Array bodies included), and a
// write's promise resolves only when its transaction has committed, so a
// reload right after it keeps the value.

/** The SDK's store contract (`ClientStore` in @parley/client): string values under string keys. */
export interface KeyValueStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
  /** Several sets (string) and deletes (undefined) in one transaction: all or none. */
  update(changes: ReadonlyMap<string, string | undefined>): Promise<void>;
}

export const databaseName = "parley";
const databaseVersion = 1;
const clientStoreName = "client";
const cacheStoreName = "cache";

function requestResult<Result>(request: IDBRequest<Result>): Promise<Result> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function committed(transaction: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error ?? new Error("transaction aborted"));
  });
}

/** The platform's IndexedDB: `window` in a browser, fake-indexeddb in tests. */
export interface IndexedDbPlatform {
  readonly indexedDB: IDBFactory;
  readonly IDBKeyRange: typeof IDBKeyRange;
}

export class BrowserDatabase {
  readonly #database: IDBDatabase;
  readonly #keyRange: typeof IDBKeyRange;

  private constructor(database: IDBDatabase, keyRange: typeof IDBKeyRange) {
    this.#database = database;
    this.#keyRange = keyRange;
  }

  /** Opens (creating on first use) the database. */
  static async open(platform: IndexedDbPlatform, name = databaseName): Promise<BrowserDatabase> {
    const request = platform.indexedDB.open(name, databaseVersion);
    request.onupgradeneeded = () => {
      const database = request.result;
      if (!database.objectStoreNames.contains(clientStoreName)) {
        database.createObjectStore(clientStoreName);
      }
      if (!database.objectStoreNames.contains(cacheStoreName)) {
        database.createObjectStore(cacheStoreName);
      }
    };
    const database = await requestResult(request);
    // Another tab upgrading the schema asks us to let go rather than block it.
    database.onversionchange = () => database.close();
    return new BrowserDatabase(database, platform.IDBKeyRange);
  }

  async #read(storeName: string, key: string): Promise<unknown> {
    const transaction = this.#database.transaction(storeName, "readonly");
    return requestResult(transaction.objectStore(storeName).get(key));
  }

  async #write(storeName: string, change: (store: IDBObjectStore) => void): Promise<void> {
    const transaction = this.#database.transaction(storeName, "readwrite");
    const done = committed(transaction);
    change(transaction.objectStore(storeName));
    await done;
  }

  /** The SDK's store. */
  readonly client: KeyValueStore = {
    get: async (key) => {
      const value = await this.#read(clientStoreName, key);
      return typeof value === "string" ? value : undefined;
    },
    set: (key, value) => this.#write(clientStoreName, (store) => store.put(value, key)),
    delete: (key) => this.#write(clientStoreName, (store) => store.delete(key)),
    // The SDK writes encrypted rooms' MLS state with the stream cursor this way.
    update: (changes) =>
      this.#write(clientStoreName, (store) => {
        for (const [key, value] of changes) {
          if (value === undefined) store.delete(key);
          else store.put(value, key);
        }
      }),
  };

  /** A cached value, or undefined; callers check its shape (it may be from an older version). */
  cached(key: string): Promise<unknown> {
    return this.#read(cacheStoreName, key);
  }

  cache(key: string, value: unknown): Promise<void> {
    return this.#write(cacheStoreName, (store) => store.put(value, key));
  }

  /** Drops every cached value whose key starts with `prefix` (one user's, at sign-out). */
  forgetCached(prefix: string): Promise<void> {
    // Every key with the prefix sorts between it and the prefix followed by U+FFFF.
    const range = this.#keyRange.bound(prefix, `${prefix}\uffff`);
    return this.#write(cacheStoreName, (store) => store.delete(range));
  }

  /** Drops everything this origin keeps: the device key too. */
  async forgetEverything(): Promise<void> {
    await this.#write(clientStoreName, (store) => store.clear());
    await this.#write(cacheStoreName, (store) => store.clear());
  }

  close(): void {
    this.#database.close();
  }
}
