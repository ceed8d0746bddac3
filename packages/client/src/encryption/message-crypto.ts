// Application messages of encrypted rooms: encrypting what this device
// sends into a PrivateMessage (the plaintext format is plaintext.ts), and
// decrypting what arrives back into the same message events plain rooms
// give, or into an `undecryptable` event that says why.

import { encryptMessage, isActive, mlsFailureToParleyError, processMessage } from "@parley/mls";
import { ParleyError, type RoomId } from "@parley/protocol";
import type { ClientEvent, RoomMessageEvent, UndecryptableEvent } from "../events/client-events.ts";
import { writeChanges } from "../store/client-store.ts";
import { decodePlaintext, encodePlaintext, type MessagePlaintext } from "./plaintext.ts";
import { messageKey, type PlaintextCache } from "./plaintext-cache.ts";
import type { RoomGroups } from "./room-groups.ts";

/** The content type of an encrypted room's messages on the wire (RFC 9420's media type). */
export const mlsContentType = "message/mls";

const textDecoder = new TextDecoder("utf-8", { fatal: false });

export class MessageCrypto {
  readonly #groups: RoomGroups;
  readonly #plaintexts: PlaintextCache;

  constructor(groups: RoomGroups, plaintexts: PlaintextCache) {
    this.#groups = groups;
    this.#plaintexts = plaintexts;
  }

  /** Encrypts a message for the room; the new state is stored before the ciphertext leaves. */
  encrypt(
    roomId: RoomId,
    deviceId: string,
    clientId: string,
    message: MessagePlaintext,
  ): Promise<Uint8Array> {
    const groups = this.#groups;
    return groups.withRoom(roomId, async () => {
      const member = await groups.member(roomId);
      if (member === undefined || !isActive(member)) {
        throw new ParleyError("mls_not_member", `this device is not in room ${roomId}'s group`);
      }
      const encrypted = await encryptMessage(member, encodePlaintext(message));
      if (encrypted.kind === "failed") throw mlsFailureToParleyError(encrypted);
      // The device cannot decrypt its own echo: its plaintext is stored with the new state.
      groups.update(roomId, encrypted.member);
      await this.#plaintexts.put(roomId, messageKey({ deviceId, clientId }), message);
      await writeChanges(groups.store, await this.takeChanges());
      return encrypted.message;
    });
  }

  /** A message event: decrypted to the plaintext event, or an `undecryptable` event. */
  decrypt(event: RoomMessageEvent): Promise<ClientEvent> {
    if (event.contentType !== mlsContentType) return Promise.resolve(event);
    const groups = this.#groups;
    return groups.withRoom(event.roomId, async () => {
      // Seen before (its key is spent) or sent from here (never decryptable here).
      const kept = await this.#plaintexts.get(event.roomId, messageKey(event));
      if (kept !== undefined) return withPlaintext(event, kept);
      if (event.fromThisDevice) {
        return undecryptable(event, new ParleyError("mls_replayed", "sent by this device earlier"));
      }
      const member = await groups.member(event.roomId);
      if (member === undefined) {
        return undecryptable(event, new ParleyError("mls_not_member", "not in the room's group"));
      }
      const outcome = await processMessage(member, event.body);
      if (outcome.kind === "failed") return undecryptable(event, mlsFailureToParleyError(outcome));
      if (outcome.kind !== "application") {
        return undecryptable(
          event,
          new ParleyError("mls_rule_violation", "not an application message"),
        );
      }
      groups.update(event.roomId, outcome.member);
      // The MLS sender must be the device that signed the envelope.
      if (outcome.sender.device !== event.deviceId || outcome.sender.user !== event.sender) {
        return undecryptable(
          event,
          new ParleyError("mls_authentication_failed", "the MLS sender is not the signing device"),
        );
      }
      let plaintext: MessagePlaintext;
      try {
        plaintext = decodePlaintext(outcome.plaintext);
      } catch (error) {
        return undecryptable(event, error as ParleyError);
      }
      await this.#plaintexts.put(event.roomId, messageKey(event), plaintext);
      return withPlaintext(event, plaintext);
    });
  }

  /**
   * A message of a history page: its kept plaintext, or `undecryptable`
   * (history never runs MLS: its keys belong to the stream's order).
   */
  async fromHistory(event: RoomMessageEvent): Promise<RoomMessageEvent | UndecryptableEvent> {
    if (event.contentType !== mlsContentType) return event;
    const kept = await this.#plaintexts.get(event.roomId, messageKey(event));
    return kept === undefined
      ? undecryptable(
          event,
          new ParleyError("mls_not_member", "this device holds no plaintext of the message"),
        )
      : withPlaintext(event, kept);
  }

  /** Store changes of members and plaintexts since the last call, for one write. */
  async takeChanges(): Promise<Map<string, string | undefined>> {
    return new Map([
      ...(await this.#groups.takeChanges()),
      ...(await this.#plaintexts.takeChanges()),
    ]);
  }
}

function withPlaintext(event: RoomMessageEvent, plaintext: MessagePlaintext): RoomMessageEvent {
  return {
    ...event,
    contentType: plaintext.contentType,
    body: plaintext.body,
    text: plaintext.contentType.startsWith("text/")
      ? textDecoder.decode(plaintext.body)
      : undefined,
  };
}

function undecryptable(event: RoomMessageEvent, error: ParleyError): UndecryptableEvent {
  const { type: _type, body: _body, text: _text, contentType: _contentType, ...rest } = event;
  return { ...rest, type: "undecryptable", error };
}
