// Sealed plaintexts: what a device keeps of an encrypted room's messages
// after MLS has forgotten how to read them. MLS deletes a message's key once
// used and a device can never decrypt what it sent itself, so a client that
// wants to show history after a restart keeps the plaintexts, and keeps them
// sealed under the same key and envelope as its MLS state (scope: the room).
//
//     canonical CBOR { "messages": [ { "body": bytes, "contentType": text,
//                      "id": text } ], "version": 1 }

import type { RoomId } from "@parley/protocol";
import { isCborMap } from "../cbor-map.ts";
import type { MlsCrypto } from "../crypto/mls-crypto.ts";
import { type MlsFailure, mlsFailure } from "../errors.ts";
import { open, seal } from "./envelope.ts";

const plaintextVersion = 1;
/** The envelope's decoder bounds one array (sealedDecodeLimits.containerItemsMax). */
export const sealedPlaintextsMax = 4096;

export interface SealedPlaintext {
  /** The caller's name for the message, unique within the room. */
  readonly id: string;
  readonly contentType: string;
  readonly body: Uint8Array;
}

/** Seals a room's kept plaintexts (at most `sealedPlaintextsMax`). */
export function sealPlaintexts(
  crypto: MlsCrypto,
  roomId: RoomId,
  messages: readonly SealedPlaintext[],
  key: Uint8Array,
): Promise<Uint8Array> {
  if (messages.length > sealedPlaintextsMax) {
    throw new RangeError(`at most ${sealedPlaintextsMax} plaintexts can be sealed together`);
  }
  const plaintext = {
    messages: messages.map((message) => ({
      body: message.body,
      contentType: message.contentType,
      id: message.id,
    })),
    version: plaintextVersion,
  };
  return seal(crypto, { kind: "plaintexts", scope: roomId, sequence: 0 }, plaintext, key);
}

export type OpenedPlaintexts =
  | { readonly kind: "opened"; readonly messages: readonly SealedPlaintext[] }
  | MlsFailure;

/** Opens the plaintexts sealed for `roomId` with `key`. */
export async function openPlaintexts(
  crypto: MlsCrypto,
  sealed: Uint8Array,
  key: Uint8Array,
  options: { readonly roomId: RoomId },
): Promise<OpenedPlaintexts> {
  const opened = await open(crypto, { kind: "plaintexts", scope: options.roomId }, sealed, key);
  if (opened.kind === "failed") return opened;
  const invalid = (detail: string) => mlsFailure("mls_sealed_state_invalid", detail);
  const { plaintext } = opened;
  if (!isCborMap(plaintext)) return invalid("unknown plaintext");
  const { messages, version } = plaintext;
  if (version !== plaintextVersion) return invalid("unknown plaintext version");
  if (!Array.isArray(messages)) return invalid("missing messages");
  const result: SealedPlaintext[] = [];
  for (const entry of messages) {
    if (!isCborMap(entry)) return invalid("a message is not a map");
    const { body, contentType, id } = entry;
    if (
      !(body instanceof Uint8Array) ||
      typeof contentType !== "string" ||
      typeof id !== "string"
    ) {
      return invalid("a message lacks a field");
    }
    result.push({ id, contentType, body });
  }
  return { kind: "opened", messages: result };
}
