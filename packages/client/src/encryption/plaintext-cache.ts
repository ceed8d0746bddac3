// The plaintexts this device has of each encrypted room's messages, kept so
// that history reads after a restart: MLS deletes a message's key once used
// (a message cannot be decrypted twice) and a device cannot decrypt what it
// sent itself. Kept per room in the store, sealed with the MLS state key
// (@parley/mls `sealPlaintexts`). Messages the device decrypts are stored
// with the stream's cursor, like the MLS state that consumed their keys;
// what it sends is stored before the ciphertext leaves.

import {
  mlsFailureToParleyError,
  openPlaintexts,
  sealedPlaintextsMax,
  sealPlaintexts,
} from "@parley/mls";
import { decodeBase64url, encodeBase64url, ParleyError, type RoomId } from "@parley/protocol";
import type { MlsContext } from "./mls-context.ts";
import type { MessagePlaintext } from "./plaintext.ts";

const recordPrefix = "parley.mls.plaintexts.";

/** Plaintexts kept per room; the oldest kept go first. */
export const keptPlaintextsMax = Math.min(2000, sealedPlaintextsMax);

/** A message's name within its room: the sending device and its client id (§10.2). */
export function messageKey(message: { deviceId: string; clientId: string }): string {
  return `${message.deviceId}/${message.clientId}`;
}

export class PlaintextCache {
  readonly #context: MlsContext;
  readonly #rooms = new Map<string, Map<string, MessagePlaintext>>();
  readonly #loading = new Map<string, Promise<Map<string, MessagePlaintext>>>();
  readonly #dirty = new Set<RoomId>();

  constructor(context: MlsContext) {
    this.#context = context;
  }

  async get(roomId: RoomId, key: string): Promise<MessagePlaintext | undefined> {
    return (await this.#room(roomId)).get(key);
  }

  /** Keeps a plaintext in memory; it is stored with the next `takeChanges`. */
  async put(roomId: RoomId, key: string, plaintext: MessagePlaintext): Promise<void> {
    const room = await this.#room(roomId);
    room.delete(key);
    room.set(key, plaintext);
    for (const oldest of room.keys()) {
      if (room.size <= keptPlaintextsMax) break;
      room.delete(oldest);
    }
    this.#dirty.add(roomId);
  }

  /** The sealed records of every room changed since the last call. */
  async takeChanges(): Promise<Map<string, string | undefined>> {
    const changes = new Map<string, string | undefined>();
    if (this.#dirty.size === 0) return changes;
    const rooms = [...this.#dirty];
    this.#dirty.clear();
    const crypto = await this.#context.crypto();
    const stateKey = await this.#context.stateKey();
    for (const roomId of rooms) {
      const room = this.#rooms.get(roomId);
      if (room === undefined) continue;
      const messages = [...room].map(([id, plaintext]) => ({ id, ...plaintext }));
      const sealed = await sealPlaintexts(crypto, roomId, messages, stateKey);
      changes.set(`${recordPrefix}${roomId}`, encodeBase64url(sealed));
    }
    return changes;
  }

  #room(roomId: RoomId): Promise<Map<string, MessagePlaintext>> {
    const known = this.#rooms.get(roomId);
    if (known !== undefined) return Promise.resolve(known);
    let loading = this.#loading.get(roomId);
    if (loading === undefined) {
      loading = this.#load(roomId).finally(() => this.#loading.delete(roomId));
      this.#loading.set(roomId, loading);
    }
    return loading;
  }

  async #load(roomId: RoomId): Promise<Map<string, MessagePlaintext>> {
    const recordKey = `${recordPrefix}${roomId}`;
    const text = await this.#context.records.store.get(recordKey);
    const room = new Map<string, MessagePlaintext>();
    if (text !== undefined) {
      let sealed: Uint8Array;
      try {
        sealed = decodeBase64url(text);
      } catch (cause) {
        throw new ParleyError("bad_encoding", `the stored ${recordKey} is not base64url`, {
          cause,
        });
      }
      const crypto = await this.#context.crypto();
      const opened = await openPlaintexts(crypto, sealed, await this.#context.stateKey(), {
        roomId,
      });
      if (opened.kind === "failed") throw mlsFailureToParleyError(opened);
      for (const message of opened.messages) {
        room.set(message.id, { contentType: message.contentType, body: message.body });
      }
    }
    this.#rooms.set(roomId, room);
    return room;
  }
}
