// Per-device queue items: what reaches a device that is not (or no longer)
// reading the room's stream — an invite, a kick, a ban. One item per device
// of each affected local user, idempotent by item id, then a nudge to the live
// stream so connected devices get it at once.

import { type ServerName, type UserId, userIdParts } from "@parley/protocol";
import type { Storage } from "../storage/storage.ts";

export interface Notice {
  /** Unique per device; the same notice sent again is stored once. */
  readonly id: string;
  readonly kind: "invite" | "membership" | "notice";
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
    const { storage, listener } = this.#dependencies;
    const body = new TextEncoder().encode(JSON.stringify(notice.body));
    for (const user of users) {
      const { localPart, server } = userIdParts(user);
      // Users of other servers are reached by federation, which comes later.
      if (server !== this.#dependencies.serverName()) continue;
      const devices = await storage.devices.listForAccount(localPart);
      for (const device of devices) {
        if (device.revokedAtMs !== null) continue;
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
