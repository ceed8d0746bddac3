// The SDK's records inside a ClientStore, read and written as JSON under
// fixed keys. What comes back from a store is checked before use: a store
// edited by hand or written by an older version gives a clear error, not a
// crash deep inside the client.

import { ParleyError } from "@parley/protocol";
import { type ClientStore, writeChanges } from "./client-store.ts";

/** The device and the account it belongs to. */
export interface SavedDevice {
  /** The device's 32-byte Ed25519 secret seed, base64url. */
  readonly secretSeed: string;
  readonly userId: string;
  /** The homeserver's name, as in the user id. */
  readonly serverName: string;
  /** The homeserver's base URL, e.g. http://127.0.0.1:8008. */
  readonly baseUrl: string;
  /** The sequence of the newest device record this device signed (§5.6). */
  readonly recordSequence: number;
}

export interface SavedSession {
  readonly accessToken: string;
  readonly expiresAtMs: number;
}

/** What the device has processed from its stream, for deduplication after a restart. */
export interface SavedCursor {
  /** The newest `through` processed. */
  readonly streamPosition: number;
  /** The newest queue item processed. */
  readonly queuePosition: number;
  /** Per room, the highest room sequence handed to the application. */
  readonly roomSequences: Readonly<Record<string, number>>;
}

/** A message signed and not yet accepted, so a restart retries it rather than losing it. */
export interface SavedOutgoing {
  readonly roomId: string;
  readonly clientId: string;
  /** The signed envelope, base64url: a retry sends these exact bytes. */
  readonly envelope: string;
  readonly contentType: string;
  /** The body, base64url. */
  readonly body: string;
  readonly createdAtMs: number;
}

const keys = {
  device: "parley.device",
  session: "parley.session",
  cursor: "parley.cursor",
  outbox: "parley.outbox",
} as const;

function parse(key: string, text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new ParleyError("bad_encoding", `the stored ${key} is not JSON`, { cause });
  }
}

/** A stored record before its fields are checked: every field may hold anything. */
type Unchecked<Record> = { readonly [Field in keyof Record]?: unknown };

function isRecord<Record>(value: unknown): value is Unchecked<Record> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function check(condition: boolean, key: string): asserts condition {
  if (!condition) throw new ParleyError("bad_structure", `the stored ${key} has a wrong shape`);
}

/** Typed access to the SDK's records in a ClientStore. */
export class SavedState {
  readonly store: ClientStore;

  constructor(store: ClientStore) {
    this.store = store;
  }

  async device(): Promise<SavedDevice | undefined> {
    const value = parse(keys.device, await this.store.get(keys.device));
    if (value === undefined) return undefined;
    check(
      isRecord<SavedDevice>(value) &&
        typeof value.secretSeed === "string" &&
        typeof value.userId === "string" &&
        typeof value.serverName === "string" &&
        typeof value.baseUrl === "string" &&
        typeof value.recordSequence === "number",
      keys.device,
    );
    return value as unknown as SavedDevice;
  }

  saveDevice(device: SavedDevice): Promise<void> {
    return this.store.set(keys.device, JSON.stringify(device));
  }

  async session(): Promise<SavedSession | undefined> {
    const value = parse(keys.session, await this.store.get(keys.session));
    if (value === undefined) return undefined;
    check(
      isRecord<SavedSession>(value) &&
        typeof value.accessToken === "string" &&
        typeof value.expiresAtMs === "number",
      keys.session,
    );
    return value as unknown as SavedSession;
  }

  saveSession(session: SavedSession): Promise<void> {
    return this.store.set(keys.session, JSON.stringify(session));
  }

  forgetSession(): Promise<void> {
    return this.store.delete(keys.session);
  }

  async cursor(): Promise<SavedCursor> {
    const value = parse(keys.cursor, await this.store.get(keys.cursor));
    if (value === undefined) return { streamPosition: 0, queuePosition: 0, roomSequences: {} };
    check(
      isRecord<SavedCursor>(value) &&
        typeof value.streamPosition === "number" &&
        typeof value.queuePosition === "number" &&
        isRecord<Record<string, number>>(value.roomSequences),
      keys.cursor,
    );
    return value as unknown as SavedCursor;
  }

  /**
   * Saves the cursor, in one store write with `alongside` (other records
   * that must move with it: encrypted rooms' MLS state).
   */
  saveCursor(
    cursor: SavedCursor,
    alongside: ReadonlyMap<string, string | undefined> = new Map(),
  ): Promise<void> {
    const changes = new Map(alongside);
    changes.set(keys.cursor, JSON.stringify(cursor));
    return writeChanges(this.store, changes);
  }

  async outbox(): Promise<SavedOutgoing[]> {
    const value = parse(keys.outbox, await this.store.get(keys.outbox));
    if (value === undefined) return [];
    check(Array.isArray(value), keys.outbox);
    for (const item of value) {
      check(
        isRecord<SavedOutgoing>(item) &&
          typeof item.roomId === "string" &&
          typeof item.clientId === "string" &&
          typeof item.envelope === "string",
        keys.outbox,
      );
    }
    return value as SavedOutgoing[];
  }

  saveOutbox(outbox: readonly SavedOutgoing[]): Promise<void> {
    return outbox.length === 0
      ? this.store.delete(keys.outbox)
      : this.store.set(keys.outbox, JSON.stringify(outbox));
  }
}
