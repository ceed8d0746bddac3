// Who a room's messages are for, as this server sees it now: the servers
// with a joined member, and the acknowledged stream cursors of this server's
// live devices of joined members (stored ones, raised by acknowledgements
// that just arrived on open sockets). Both directions of delivery truth read
// it: the sender's server for its own devices (§10.14), every other server
// for its receipts (§12.13).

import { userIdParts } from "@parley/protocol";
import { deliveryRoomMembersMax, pageSizeMax } from "../limits.ts";
import type { Storage } from "../storage/storage.ts";
import type { RoomAudience } from "./delivery-counts.ts";

export interface AudienceSources {
  readonly storage: Storage;
  readonly serverName: () => string;
  /** The newest acknowledgement open sockets of this device sent (0 if none). */
  readonly acknowledgedOf: (deviceId: string) => number;
}

/** The room's audience now, or null when the room is too big to count (limits.ts). */
export async function readRoomAudience(
  sources: AudienceSources,
  roomId: string,
): Promise<RoomAudience | null> {
  const { storage } = sources;
  const ownServer = sources.serverName();
  const servers = new Set<string>();
  const localNames: string[] = [];
  let afterUserId: string | undefined;
  for (let read = 0; ; read += pageSizeMax) {
    if (read >= deliveryRoomMembersMax) return null;
    const page = await storage.rooms.membersOfRoom({
      roomId,
      memberships: ["join"],
      limit: pageSizeMax,
      ...(afterUserId === undefined ? {} : { afterUserId }),
    });
    for (const member of page.items) {
      const { localPart, server } = userIdParts(member.userId);
      servers.add(server);
      if (server === ownServer) localNames.push(localPart);
    }
    afterUserId = page.items.at(-1)?.userId;
    if (!page.more) break;
  }
  const localCursorByDevice = new Map<string, number>();
  for (let start = 0; start < localNames.length; start += pageSizeMax) {
    const cursors = await storage.devices.streamCursorsOf(
      localNames.slice(start, start + pageSizeMax),
    );
    for (const cursor of cursors) {
      const live = sources.acknowledgedOf(cursor.deviceId);
      localCursorByDevice.set(cursor.deviceId, Math.max(cursor.streamPosition, live));
    }
  }
  const localCursorsAscending = [...localCursorByDevice.values()].sort((a, b) => a - b);
  return { servers, localCursorsAscending, localCursorByDevice };
}
