// A stopgap while the federation core's storage is in memory: after a
// restart the core knows no room, but the projection (the event stream) still
// holds every accepted control entry of the rooms created here. Such a room is
// rebuilt by creating it again from its create entry and proposing its later
// entries again, in order; the projection ignores what it already holds
// (control events are keyed by index). Only rooms this server created and
// sponsors alone qualify: a room shared with other servers would need its
// Raft log, which only durable storage keeps. With durable federation
// storage (FlushableFederationStorage.durable) this is never used.

import { type RoomId, type UserId, userIdParts } from "@parley/protocol";
import { type ControlEntry, decodeControlEntry } from "@parley/room";
import type { FederationDriver } from "../federation/driver/federation-driver.ts";
import { pageSizeMax } from "../limits.ts";
import type { Storage } from "../storage/storage.ts";
import { controlEventContentType } from "./control-events.ts";

/** Rebuilds `roomId` in the core from the stream if it qualifies; false if it does not. */
export async function rebuildVolatileRoom(
  storage: Storage,
  driver: FederationDriver,
  roomId: RoomId,
): Promise<boolean> {
  if (driver.view((host) => host.session(roomId)) !== undefined) return true;
  if ((await storage.rooms.get(roomId)) === null) return false;
  const entries = await controlEntries(storage, roomId);
  const [create, ...rest] = entries;
  if (create === undefined || create.action.type !== "create") return false;
  const local = (user: UserId) => userIdParts(user).server === driver.self;
  const allLocal = entries.every((entry) => entry.actor.type !== "user" || local(entry.actor.user));
  if (!allLocal || create.actor.type !== "user") return false;
  await driver.createRoom(create);
  for (const entry of rest) {
    const outcome = await driver.proposeControl(roomId, entry);
    if (outcome.kind !== "committed") return false;
  }
  return true;
}

async function controlEntries(storage: Storage, roomId: RoomId): Promise<ControlEntry[]> {
  const entries: ControlEntry[] = [];
  let from = 0;
  // Bounded: each page moves `from` past the events it returned.
  for (;;) {
    const page = await storage.events.pageRoom({
      roomId,
      fromSequence: from,
      direction: "forward",
      limit: pageSizeMax,
    });
    for (const event of page.items) {
      if (event.contentType === controlEventContentType) {
        entries.push(decodeControlEntry(event.body));
      }
    }
    const last = page.items.at(-1);
    if (!page.more || last === undefined) return entries;
    from = last.roomSequence;
  }
}
