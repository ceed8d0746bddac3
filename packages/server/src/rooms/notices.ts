// Per-device queue items: what reaches a device that is not (or no longer)
// reading the room's stream — an invite, a kick, a ban. One item per device
// of each affected local user, idempotent by item id, then a nudge to the live
// stream so connected devices get it at once.

import { type ServerName, type UserId, userIdParts } from "@parley/protocol";
import type { Storage } from "../storage/storage.ts";

export interface Notice {
  /** Unique per device; the same notice sent again is stored once. */
  readonly id: string;
  readonly kind: "invite" | "membership" | "notice" | "welcome";
  readonly body: Readonly<Record<string, unknown>>;
}

export interface QueueListener {
  queueChanged(deviceId: string): void;
}

export interface NoticeDependencies {
  readonly storage: Storage;
  readonly serverName: () => ServerName;
  readonly deviceQueueItems: number;
  readonly nowMs: () => number;
  readonly listener: QueueListener;
}

export class DeviceNotices {
  readonly #dependencies: NoticeDependencies;

  constructor(dependencies: NoticeDependencies) {
    this.#dependencies = dependencies;
  }

  async send(users: readonly UserId[], notice: Notice): Promise<void> {
    await this.#sendWhere(users, () => true, notice);
  }

  /**
   * Tells the user's other devices that `deviceId` was revoked, so they
   * remove it from the groups of their encrypted rooms (§10.8): the server
   * cannot, and a revoked device left in a group could read what follows.
   */
  deviceRevoked(user: UserId, deviceId: string): Promise<void> {
    return this.send([user], {
      id: `device-revoked:${deviceId}`,
      kind: "notice",
      body: { type: "device-revoked", deviceId },
    });
  }

  /**
   * A notice for some devices only (a Welcome is for the devices a commit
   * added): each named device of a local user that is not revoked.
   */
  async sendToDevices(
    devices: ReadonlyArray<{ readonly user: UserId; readonly device: string }>,
    notice: Notice,
  ): Promise<void> {
    const wanted = new Set(devices.map((named) => `${named.user} ${named.device}`));
    const users = [...new Set(devices.map((named) => named.user))];
    await this.#sendWhere(users, (user, deviceId) => wanted.has(`${user} ${deviceId}`), notice);
  }

  async #sendWhere(
    users: readonly UserId[],
    include: (user: UserId, deviceId: string) => boolean,
    notice: Notice,
  ): Promise<void> {
    const { storage, listener } = this.#dependencies;
    const body = new TextEncoder().encode(JSON.stringify(notice.body));
    for (const user of users) {
      const { localPart, server } = userIdParts(user);
      // Users of other servers are reached by their own server's projection.
      if (server !== this.#dependencies.serverName()) continue;
      const devices = await storage.devices.listForAccount(localPart);
      for (const device of devices) {
        if (device.revokedAtMs !== null || !include(user, device.deviceId)) continue;
        const outcome = await storage.inboxes.enqueue({
          deviceId: device.deviceId,
          itemId: notice.id,
          itemKind: notice.kind,
          body,
          createdAtMs: this.#dependencies.nowMs(),
          maxItems: this.#dependencies.deviceQueueItems,
        });
        if (outcome.kind === "queued") listener.queueChanged(device.deviceId);
      }
    }
  }
}
