// This user's devices as its homeserver lists them (`GET /devices`, §10.2),
// revoking one, and keeping revoked devices out of the user's encrypted
// rooms. A revoked device loses its sessions at once but keeps its MLS
// state: until a commit removes it from each group it could read what
// follows, and only a member device can make that commit. So the user's
// remaining devices do, when told of a revocation (a `device-revoked` queue
// notice, §10.8), after revoking one themselves, and at every start (for a
// notice that was missed).

import type { DeviceId, RoomId } from "@parley/protocol";
import type { Session } from "../session.ts";

export interface OwnDevice {
  readonly deviceId: DeviceId;
  readonly createdAtMs: number;
  /** When it was revoked; null while it may sign in. */
  readonly revokedAtMs: number | null;
  /** The device this client runs on. */
  readonly current: boolean;
}

export interface OwnDevicesDependencies {
  readonly session: Session;
  /** The user's joined rooms (encrypted or not: the encryption side skips plain ones). */
  readonly joinedRooms: () => Promise<readonly RoomId[]>;
  readonly removeFromGroups: (
    rooms: readonly RoomId[],
    devices: ReadonlySet<string>,
  ) => Promise<void>;
}

export class OwnDevices {
  readonly #dependencies: OwnDevicesDependencies;

  constructor(dependencies: OwnDevicesDependencies) {
    this.#dependencies = dependencies;
  }

  /** Every device of this user, revoked ones included. */
  async list(): Promise<OwnDevice[]> {
    const answer = await this.#dependencies.session.request<{ devices: OwnDevice[] }>(
      "GET",
      "/devices",
    );
    return answer.devices;
  }

  /**
   * Revokes one of this user's devices (its sessions end at once), then
   * removes it from the groups of the user's encrypted rooms.
   */
  async revoke(deviceId: DeviceId): Promise<void> {
    await this.#dependencies.session.request("DELETE", `/devices/${encodeURIComponent(deviceId)}`);
    await this.removeRevoked([deviceId]);
  }

  /** Removes the named revoked devices (or every revoked device the server lists) from the groups. */
  async removeRevoked(devices?: readonly DeviceId[]): Promise<void> {
    const revoked =
      devices ??
      (await this.list())
        .filter((device) => device.revokedAtMs !== null)
        .map((device) => device.deviceId);
    if (revoked.length === 0) return;
    const rooms = await this.#dependencies.joinedRooms();
    await this.#dependencies.removeFromGroups(rooms, new Set(revoked));
  }
}
