// The benchmark's federation: homeserver processes on loopback (no proxies:
// nothing is cut here) and one room across them, made through the SDK as
// people would: the user of server 0 creates it and invites the users of the
// other sponsors (their servers join the sponsor set), makes them
// moderators, fixes the sponsor set, then invites the rest (leaves).

import { ParleyClient } from "@parley/client";
import { nodeClientOptions } from "@parley/client/node";
import { ParleyError, type RoomId } from "@parley/protocol";
import { FederationCluster, pollUntil } from "@parley/server/testing";

const password = "correct horse battery staple";
const joinWaitMs = 60_000;

export interface SharedRoom {
  readonly cluster: FederationCluster;
  readonly roomId: RoomId;
  /** One user per server, by server index; streams started. */
  readonly users: readonly ParleyClient[];
  close(): Promise<void>;
}

export function userAt(room: SharedRoom, index: number): ParleyClient {
  const user = room.users[index];
  if (user === undefined) throw new Error(`no user on server ${index}`);
  return user;
}

async function joinWhenInvited(client: ParleyClient, roomId: RoomId): Promise<void> {
  await pollUntil(`${client.userId} joins`, joinWaitMs, async () => {
    try {
      await client.join(roomId);
      return true;
    } catch (error) {
      const waiting =
        error instanceof ParleyError &&
        (error.code === "not_found" || error.code === "unavailable");
      if (waiting) return undefined;
      throw error;
    }
  });
}

/** Starts `size` servers; servers 0 to sponsorCount-1 sponsor the room, the rest are leaves. */
export async function startSharedRoom(size: number, sponsorCount: number): Promise<SharedRoom> {
  const cluster = await FederationCluster.start({
    size,
    proxies: false,
    environment: {
      PARLEY_FEDERATION_TICK_INTERVAL_MS: "20",
      PARLEY_LOG_LEVEL: "warn",
      // The latency figure's few sending devices carry 1,000 msg/s between
      // them, beyond the 50 requests/s a device may make by default.
      PARLEY_RATE_LIMITS_DEVICE_REQUESTS_PER_SECOND: "2000",
    },
  });
  const users: ParleyClient[] = [];
  const close = async () => {
    await Promise.allSettled(users.map((user) => user.stop()));
    await cluster.dispose();
  };
  try {
    for (const [index, server] of cluster.servers.entries()) {
      const user = await ParleyClient.register(
        { baseUrl: server.url, serverName: server.serverName, userName: `user${index}`, password },
        nodeClientOptions(),
      );
      await user.start();
      users.push(user);
    }
    const [creator] = users;
    if (creator === undefined) throw new Error("no servers");
    const { roomId } = await creator.createRoom({ name: "bench", joinRule: "invite" });
    const invite = async (index: number) => {
      const user = users[index];
      if (user === undefined) return;
      await creator.invite(roomId, user.userId);
      await joinWhenInvited(user, roomId);
    };
    for (let index = 1; index < sponsorCount; index += 1) {
      await invite(index);
      await creator.setRole(roomId, users[index]?.userId ?? creator.userId, "moderator");
    }
    await creator.act(roomId, {
      type: "set-sponsor-policy",
      sponsorPolicy: { mode: "fixed", sponsorsMax: Math.max(sponsorCount, 1) },
    });
    for (let index = sponsorCount; index < size; index += 1) await invite(index);
    // Every server applied the whole setup (each join is a control entry).
    const setupIndex = (await cluster.status(0, roomId)).appliedIndex;
    for (const index of cluster.servers.keys()) {
      await pollUntil(`server ${index} caught up`, joinWaitMs, async () =>
        (await cluster.status(index, roomId)).appliedIndex >= setupIndex ? true : undefined,
      );
    }
    return { cluster, roomId, users, close };
  } catch (error) {
    await close();
    throw error;
  }
}
