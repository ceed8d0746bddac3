// A leaf none of whose users takes part in a room any more detaches from it
// (docs/protocol.md §12.7): its sponsor stops feeding it, so the room's
// messages no longer travel to a server nobody reads them on. An invite of
// one of its users wakes it again, and it catches up.

import { parseServerName, type RoomId, type ServerName } from "@parley/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, InProcessServers, untilListed } from "./in-process-servers.ts";

const servers = new InProcessServers();
const a = parseServerName("a.test");
const c = parseServerName("c.test");

function attachedAtSponsor(room: RoomId, leaf: ServerName): boolean {
  return servers
    .get(a)
    .clientApi.federation.driver.view(
      (host) => host.session(room)?.attachedLeaves.has(leaf) ?? false,
    );
}

/** How many of the room's messages the server stores. */
function storedOn(server: ServerName, room: RoomId): number {
  const rooms = servers.get(server).clientApi.federation.roomMessages();
  return [...(rooms.find((one) => one.room === room)?.messages ?? [])].length;
}

beforeAll(() => servers.start(a, c));

afterAll(() => servers.closeAll());

describe("a leaf without users in a room", () => {
  it("detaches when its last user leaves, and follows again when one is invited", async () => {
    const alice = await servers.user("alice", a);
    const carol = await servers.user("carol", c);
    // Invites do not make carol's server a sponsor: it stays a leaf throughout.
    const roomId = await servers.openRoomWithLeaf(alice, carol, a, "open");
    await eventually(async () => attachedAtSponsor(roomId, c));
    await alice.send(roomId, "while carol is here", { clientId: "m1" });
    await eventually(async () => storedOn(c, roomId) === 1);

    await carol.act(roomId, { type: "leave" });
    await eventually(async () => !attachedAtSponsor(roomId, c));
    await alice.send(roomId, "after carol left", { clientId: "m2" });
    await eventually(async () => storedOn(a, roomId) === 2);
    // A quiet second: a fed leaf would have the message by now.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(storedOn(c, roomId)).toBe(1);
    expect(attachedAtSponsor(roomId, c)).toBe(false);

    // The invite notice wakes the leaf, which attaches and catches up.
    await alice.act(roomId, { type: "invite", target: "carol@c.test" });
    await eventually(async () => attachedAtSponsor(roomId, c));
    await untilListed(carol, roomId, "invited");
    await carol.act(roomId, { type: "join" });
    await alice.send(roomId, "welcome back", { clientId: "m3" });
    await eventually(async () => storedOn(c, roomId) === 3);
  });
});
