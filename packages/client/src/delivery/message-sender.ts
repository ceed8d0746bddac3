// Turning what an application sends into a signed envelope in the outbox
// (docs/protocol.md §9, §10.4): text or bytes of the room's content type, in
// an encrypted room first sealed as an MLS PrivateMessage (§10.13). The
// outbox keeps the plaintext so the sender's own timeline can show it.

import {
  encodeBase64url,
  type KeyPair,
  type RoomId,
  type SignatureProvider,
  signRoomMessage,
} from "@parley/protocol";
import type { EncryptedRooms } from "../encryption/encrypted-rooms.ts";
import { mlsContentType } from "../encryption/message-crypto.ts";
import type { Outbox, OutgoingMessage } from "./outbox.ts";

/** What `send` accepts: text (sent as `text/plain`), or bytes of the room's content type. */
export type MessageContent = string | { readonly body: Uint8Array; readonly contentType: string };

export interface MessageSenderDependencies {
  readonly outbox: Outbox;
  readonly encryption: Pick<EncryptedRooms, "isEncrypted" | "encrypt">;
  readonly provider: SignatureProvider;
  readonly keyPair: KeyPair;
  readonly newClientId: () => string;
  readonly nowMs: () => number;
}

const textEncoder = new TextEncoder();

export class MessageSender {
  readonly #dependencies: MessageSenderDependencies;

  constructor(dependencies: MessageSenderDependencies) {
    this.#dependencies = dependencies;
  }

  /** The message's delivery handle: a new one, or the one already sent with this client id. */
  async send(
    roomId: RoomId,
    content: MessageContent,
    options: { clientId?: string } = {},
  ): Promise<OutgoingMessage> {
    const { outbox, encryption, provider, keyPair } = this.#dependencies;
    const body = typeof content === "string" ? textEncoder.encode(content) : content.body;
    const contentType = typeof content === "string" ? "text/plain" : content.contentType;
    const clientId = options.clientId ?? this.#dependencies.newClientId();
    const existing = outbox.find(roomId, clientId);
    if (existing !== undefined) return existing;
    const createdAtMs = this.#dependencies.nowMs();
    const encrypted = (await encryption.isEncrypted(roomId))
      ? await encryption.encrypt(roomId, clientId, { contentType, body })
      : undefined;
    const envelope = signRoomMessage(provider, keyPair, {
      roomId,
      contentType: encrypted === undefined ? contentType : mlsContentType,
      body: encrypted ?? body,
      clientId,
      sentAtMs: createdAtMs,
    });
    return outbox.send({
      roomId,
      clientId,
      envelope: encodeBase64url(envelope),
      contentType,
      body: encodeBase64url(body),
      createdAtMs,
    });
  }
}
