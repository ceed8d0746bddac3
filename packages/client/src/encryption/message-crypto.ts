// Application messages of encrypted rooms: encrypting what this device
// sends into a PrivateMessage (the plaintext format is plaintext.ts), and
// decrypting what arrives back into the same message events plain rooms
// give, or into an `undecryptable` event that says why.

import { encryptMessage, isActive, mlsFailureToParleyError, processMessage } from "@parley/mls";
import { ParleyError, type RoomId } from "@parley/protocol";
import type { ClientEvent, RoomMessageEvent } from "../events/client-events.ts";
import { decodePlaintext, encodePlaintext, type MessagePlaintext } from "./plaintext.ts";
import type { RoomGroups } from "./room-groups.ts";

/** The content type of an encrypted room's messages on the wire (RFC 9420's media type). */
export const mlsContentType = "message/mls";

/** Plaintexts of messages this device sent, kept to show their echoes (it cannot decrypt its own). */
const sentPlaintextsMax = 1000;

const textDecoder = new TextDecoder("utf-8", { fatal: false });

export class MessageCrypto {
  readonly #groups: RoomGroups;
  readonly #sent = new Map<string, MessagePlaintext>();

  constructor(groups: RoomGroups) {
    this.#groups = groups;
  }

  /** Encrypts a message for the room; the new state is stored before the ciphertext leaves. */
  encrypt(roomId: RoomId, clientId: string, message: MessagePlaintext): Promise<Uint8Array> {
    const groups = this.#groups;
    return groups.withRoom(roomId, async () => {
      const member = await groups.member(roomId);
      if (member === undefined || !isActive(member)) {
        throw new ParleyError("mls_not_member", `this device is not in room ${roomId}'s group`);
      }
      const encrypted = await encryptMessage(member, encodePlaintext(message));
      if (encrypted.kind === "failed") throw mlsFailureToParleyError(encrypted);
      await groups.save(roomId, encrypted.member);
      this.#sent.set(`${roomId}/${clientId}`, message);
      if (this.#sent.size > sentPlaintextsMax) {
        const oldest = this.#sent.keys().next().value;
        if (oldest !== undefined) this.#sent.delete(oldest);
      }
      return encrypted.message;
    });
  }

  /** A message event: decrypted to the plaintext event, or an `undecryptable` event. */
  decrypt(event: RoomMessageEvent): Promise<ClientEvent> {
    if (event.contentType !== mlsContentType) return Promise.resolve(event);
    if (event.fromThisDevice) {
      const sent = this.#sent.get(`${event.roomId}/${event.clientId}`);
      return Promise.resolve(
        sent === undefined
          ? undecryptable(event, new ParleyError("mls_replayed", "sent by this device earlier"))
          : withPlaintext(event, sent),
      );
    }
    const groups = this.#groups;
    return groups.withRoom(event.roomId, async () => {
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
      try {
        return withPlaintext(event, decodePlaintext(outcome.plaintext));
      } catch (error) {
        return undecryptable(event, error as ParleyError);
      }
    });
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

function undecryptable(event: RoomMessageEvent, error: ParleyError): ClientEvent {
  const { type: _type, body: _body, text: _text, contentType: _contentType, ...rest } = event;
  return { ...rest, type: "undecryptable", error };
}
