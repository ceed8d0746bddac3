// The projection's check that a stored message's device belongs to its
// sender (docs/protocol.md §12.14.3), before the message is shown. A round
// whose devices the cached device lists all place is judged without IO; one
// with a device they cannot place fetches those senders' lists first
// (`settle`), and then believes a list that does not name the device, since
// it was fetched after the message arrived. Bodies verified here are kept
// for the rest of the round, so no message is verified twice.

import type { StoredMessage } from "@parley/federation";
import {
  type SignatureProvider,
  type UserId,
  type VerifiedRoomMessage,
  verifyRoomMessage,
} from "@parley/protocol";
import type { VerifiedMessages } from "../../verification/verified-messages.ts";
import type { DeviceDirectory } from "../device-directory.ts";

/** Believes "not bound" from no cached list: the fast path, before any fetch this round. */
export const beforeSettling = Number.POSITIVE_INFINITY;

export class MessageDevices {
  readonly #directory: DeviceDirectory | undefined;
  readonly #provider: SignatureProvider;
  readonly #verified: VerifiedMessages;
  /** Bodies verified while placing their devices, so showing them does not verify again. */
  readonly #placed = new WeakMap<Uint8Array, VerifiedRoomMessage>();

  constructor(
    directory: DeviceDirectory | undefined,
    provider: SignatureProvider,
    verified: VerifiedMessages,
  ) {
    this.#directory = directory;
    this.#provider = provider;
    this.#verified = verified;
  }

  /** True when some shown message's device cannot be placed from the cache. */
  needsSettling(messages: Iterable<StoredMessage>): boolean {
    return this.#unplaced(messages).length > 0;
  }

  /**
   * Fetches the lists of the senders whose devices the cache cannot place;
   * answers the time from which a fetched list is believed (`refusal`).
   */
  async settle(messages: Iterable<StoredMessage>): Promise<number> {
    if (this.#directory === undefined) return beforeSettling;
    const sinceMs = this.#directory.nowMs();
    await this.#directory.settle(this.#unplaced(messages), sinceMs);
    return sinceMs;
  }

  /** The verified body if this round verified it already, else the edge's verification, once. */
  takeVerified(body: Uint8Array): VerifiedRoomMessage | undefined {
    return this.#placed.get(body) ?? this.#verified.take(body);
  }

  /** Why the message is not to be shown, or null; unplaceable devices stand on the sponsor's word. */
  refusal(
    stored: StoredMessage,
    message: VerifiedRoomMessage,
    listSinceMs: number,
  ): "device_revoked" | "user_mismatch" | null {
    const stamped = stored.message;
    const verdict = this.#directory?.verdict(
      stamped.sender,
      message.deviceId,
      stamped.acceptedAtMs,
      listSinceMs,
    );
    return verdict?.kind === "refused" ? verdict.code : null;
  }

  #unplaced(messages: Iterable<StoredMessage>): UserId[] {
    const directory = this.#directory;
    const users: UserId[] = [];
    if (directory === undefined) return users;
    for (const stored of messages) {
      if (stored.verdict !== "allowed") continue;
      const stamped = stored.message;
      const message = this.#verifiedOrNull(stamped.body);
      if (message === null) continue;
      const verdict = directory.verdict(stamped.sender, message.deviceId, stamped.acceptedAtMs);
      if (verdict.kind === "unknown") users.push(stamped.sender);
    }
    return users;
  }

  #verifiedOrNull(body: Uint8Array): VerifiedRoomMessage | null {
    const known = this.takeVerified(body);
    try {
      const message = known ?? verifyRoomMessage(this.#provider, body);
      this.#placed.set(body, message);
      return message;
    } catch {
      // Showing it will find it does not verify, and say so.
      return null;
    }
  }
}
