// What a client does by itself to keep its encrypted rooms' groups right,
// in the background, reporting failures as `error` events: after someone's
// leave it commits the leaver's removal; told that another device of its
// user was revoked, it takes that device out of every group; and at start
// it enters groups it has no state for and takes out revoked devices a
// missed notice left in.

import type { RoomId, UserId } from "@parley/protocol";
import type { OwnDevices } from "../device/own-devices.ts";
import type { ClientEvent } from "../events/client-events.ts";
import type { EventHub } from "../events/event-hub.ts";
import type { EncryptedRooms } from "./encrypted-rooms.ts";

export interface GroupUpkeepDependencies {
  readonly userId: UserId;
  readonly events: EventHub;
  readonly encryption: EncryptedRooms;
  readonly devices: OwnDevices;
  readonly joinedRooms: () => Promise<RoomId[]>;
  readonly reportError: (error: unknown) => void;
}

export class GroupUpkeep {
  readonly #dependencies: GroupUpkeepDependencies;

  constructor(dependencies: GroupUpkeepDependencies) {
    this.#dependencies = dependencies;
    const { events, encryption, devices, userId, reportError } = dependencies;
    events.on("room-change", (event: Extract<ClientEvent, { type: "room-change" }>) => {
      encryption.followRoomChange(event, userId).catch(reportError);
    });
    events.on("device-revoked", (event) => {
      devices.removeRevoked([event.deviceId]).catch(reportError);
    });
  }

  /** The start-time duties; runs in the background. */
  afterStart(): void {
    const { encryption, devices, joinedRooms, reportError } = this.#dependencies;
    joinedRooms()
      .then((rooms) => encryption.joinMissing(rooms))
      .then(() => devices.removeRevoked())
      .catch(reportError);
  }
}
