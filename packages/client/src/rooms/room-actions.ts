// Room actions whose shape depends on the room's kind (docs/protocol.md
// §10.13): in an encrypted room, adding a user adds every device of theirs
// to the MLS group and removing one removes them, in the same control entry;
// a device that was never added joins by external commit.

import { ParleyError, type RoomId, type UserId } from "@parley/protocol";
import type { EncryptedRooms } from "../encryption/encrypted-rooms.ts";
import { ServerError } from "../errors.ts";
import type { RoomApi, UserRoomAction } from "./room-api.ts";

type Removal =
  | { readonly type: "kick"; readonly target: UserId; readonly reason: string }
  | { readonly type: "ban"; readonly target: UserId; readonly reason: string };

function isMlsRuleViolation(error: unknown): boolean {
  return (
    error instanceof ParleyError &&
    (error.code === "mls_rule_violation" ||
      (error instanceof ServerError && error.roomCode === "mls_rule_violation"))
  );
}

export class RoomActions {
  readonly #rooms: RoomApi;
  readonly #encryption: EncryptedRooms;

  constructor(rooms: RoomApi, encryption: EncryptedRooms) {
    this.#rooms = rooms;
    this.#encryption = encryption;
  }

  act(
    roomId: RoomId,
    action: UserRoomAction,
    options: { clientId?: string; via?: readonly string[] } = {},
  ): Promise<{ logIndex: number }> {
    return this.#rooms.act(roomId, action, options);
  }

  async invite(roomId: RoomId, userId: UserId): Promise<{ logIndex: number }> {
    if (await this.#encryption.isEncrypted(roomId)) return this.#encryption.invite(roomId, userId);
    return this.act(roomId, { type: "invite", target: userId });
  }

  async join(
    roomId: RoomId,
    options: { via?: readonly string[] } = {},
  ): Promise<{ logIndex: number }> {
    // A room this user cannot read yet (an open one) may be encrypted too: the plain join says so.
    const state = await this.#rooms.state(roomId).catch(() => undefined);
    if (state?.kind !== "encrypted" || state.membership === "invited") {
      try {
        return await this.act(roomId, { type: "join" }, options);
      } catch (error) {
        // Refused in an encrypted room this device was not added to: join by external commit.
        if (!isMlsRuleViolation(error)) throw error;
      }
    }
    return this.#encryption.externalJoin(roomId, options.via ?? []);
  }

  /** A kick or a ban; in an encrypted room the target's devices leave the group in the same entry. */
  async remove(roomId: RoomId, action: Removal): Promise<{ logIndex: number }> {
    if (await this.#encryption.isEncrypted(roomId)) return this.#encryption.remove(roomId, action);
    return this.act(roomId, action);
  }
}
