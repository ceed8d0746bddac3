// Where a client keeps what must survive a restart: the device's secret key,
// its session, its stream cursor and the messages it has not yet seen
// accepted. The contract is a tiny string key-value store so that any
// platform can provide one (memory, a JSON file in Node, IndexedDB or
// localStorage in a browser); the SDK owns the keys and the JSON inside.

/**
 * A persistent key-value store for one device of one user. Implementations:
 * `MemoryStore` (here), `FileStore` (`@parley/client/node`), and the web
 * client's IndexedDB store.
 *
 * Contract:
 * - `get` returns exactly the last value `set` for the key, or undefined after
 *   `delete` or if never set; values are opaque strings (the SDK writes JSON).
 * - A `set` whose promise resolved survives a restart of the program (for
 *   persistent stores). Calls are issued one at a time per key by the SDK, but
 *   different keys may be written concurrently.
 * - The store holds the device's secret key: keep it private to the user
 *   (file mode 0600, origin-scoped browser storage).
 */
export interface ClientStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
  /**
   * Sets (a string) or deletes (undefined) several keys in one write: after a
   * crash either all of the changes survive or none. The SDK writes an
   * encrypted room's MLS state together with the stream cursor this way, so
   * a restarted client neither reuses a deleted message key nor skips a
   * message. Optional: without it the SDK writes the keys one by one (MLS
   * state first), and a crash in between can cost the messages of that batch.
   */
  update?(changes: ReadonlyMap<string, string | undefined>): Promise<void>;
}

/** Applies `changes` through the store's atomic `update`, or key by key where it has none. */
export async function writeChanges(
  store: ClientStore,
  changes: ReadonlyMap<string, string | undefined>,
): Promise<void> {
  if (changes.size === 0) return;
  if (store.update !== undefined) return store.update(changes);
  for (const [key, value] of changes) {
    if (value === undefined) await store.delete(key);
    else await store.set(key, value);
  }
}

/** A store that lives as long as the object: for tests and throwaway clients. */
export class MemoryStore implements ClientStore {
  readonly #values = new Map<string, string>();

  async get(key: string): Promise<string | undefined> {
    return this.#values.get(key);
  }

  async set(key: string, value: string): Promise<void> {
    this.#values.set(key, value);
  }

  async delete(key: string): Promise<void> {
    this.#values.delete(key);
  }

  async update(changes: ReadonlyMap<string, string | undefined>): Promise<void> {
    for (const [key, value] of changes) {
      if (value === undefined) this.#values.delete(key);
      else this.#values.set(key, value);
    }
  }
}
