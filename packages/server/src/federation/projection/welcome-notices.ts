// Welcomes into device queues (docs/protocol.md §10.13): a commit that added
// devices puts its Welcome, with the ratchet tree of the epoch it starts,
// into the queue of each added device of this server.

import type { RoomId, UserId } from "@parley/protocol";
import type { MlsGroupState } from "@parley/room";
import type { DeviceNotices } from "../../rooms/notices.ts";

/** Where Welcomes go: this server's device queues, for its own users only. */
export interface WelcomeTarget {
  readonly notices: DeviceNotices;
  readonly isLocal: (user: UserId) => boolean;
}

/**
 * Queues a Welcome for the added devices of this server, keyed by room and
 * index: whether the commit arrives as a record or inside a snapshot (the
 * room state keeps the current epoch's Welcome), each device gets it once.
 */
export async function queueWelcome(
  target: WelcomeTarget,
  room: RoomId,
  group: Omit<MlsGroupState, "groupInfo">,
): Promise<void> {
  if (group.welcome === null || group.added.length === 0) return;
  const local = group.added.filter((device) => target.isLocal(device.user));
  if (local.length === 0) return;
  await target.notices.sendToDevices(local, {
    id: `welcome:${room}:${group.sinceIndex}`,
    kind: "welcome",
    body: {
      type: "welcome",
      roomId: room,
      epoch: group.epoch,
      controlIndex: group.sinceIndex,
      welcome: Buffer.from(group.welcome).toString("base64url"),
      ratchetTree: Buffer.from(group.ratchetTree).toString("base64url"),
    },
  });
}
