// The SDK's MLS records inside a ClientStore: the key that seals MLS state
// at rest, the device's private KeyPackages (sealed), and one sealed member
// per encrypted room. Sealed blobs are stored as base64url strings; what
// they hold and how they are sealed is @parley/mls's format (its README,
// "State at rest").

import { decodeBase64url, encodeBase64url, ParleyError } from "@parley/protocol";
import type { ClientStore } from "../store/client-store.ts";

const stateKeyRecord = "parley.mls.state-key";
const keyPackagesRecord = "parley.mls.key-packages";
const roomRecordPrefix = "parley.mls.room.";

/** The length of the key that seals MLS state (@parley/mls `sealingKeyBytes`). */
export const stateKeyBytes = 32;

/** The store key under which a room's sealed member is kept. */
export function roomRecordKey(roomId: string): string {
  return `${roomRecordPrefix}${roomId}`;
}

function decodeStored(key: string, text: string | undefined): Uint8Array | undefined {
  if (text === undefined) return undefined;
  try {
    return decodeBase64url(text);
  } catch (cause) {
    throw new ParleyError("bad_encoding", `the stored ${key} is not base64url`, { cause });
  }
}

export class MlsRecords {
  readonly store: ClientStore;

  constructor(store: ClientStore) {
    this.store = store;
  }

  /**
   * The key that seals this device's MLS state: `given` when the application
   * keeps it itself, else the one in the store, made on first use.
   */
  async stateKey(given: Uint8Array | undefined): Promise<Uint8Array> {
    if (given !== undefined) {
      if (given.length !== stateKeyBytes) {
        throw new ParleyError(
          "invalid_argument",
          `the MLS state key must be ${stateKeyBytes} bytes`,
        );
      }
      return given;
    }
    const stored = decodeStored(stateKeyRecord, await this.store.get(stateKeyRecord));
    if (stored !== undefined) {
      if (stored.length !== stateKeyBytes) {
        throw new ParleyError("bad_structure", `the stored ${stateKeyRecord} has a wrong length`);
      }
      return stored;
    }
    const key = globalThis.crypto.getRandomValues(new Uint8Array(stateKeyBytes));
    await this.store.set(stateKeyRecord, encodeBase64url(key));
    return key;
  }

  async keyPackages(): Promise<Uint8Array | undefined> {
    return decodeStored(keyPackagesRecord, await this.store.get(keyPackagesRecord));
  }

  saveKeyPackages(sealed: Uint8Array): Promise<void> {
    return this.store.set(keyPackagesRecord, encodeBase64url(sealed));
  }

  async room(roomId: string): Promise<Uint8Array | undefined> {
    const key = roomRecordKey(roomId);
    return decodeStored(key, await this.store.get(key));
  }

  /** The store change that saves a room's sealed member (for a write with other records). */
  roomChange(roomId: string, sealed: Uint8Array | undefined): [string, string | undefined] {
    return [roomRecordKey(roomId), sealed === undefined ? undefined : encodeBase64url(sealed)];
  }
}
