// A server keeps each room's newest control certificate in its database
// (docs/protocol.md §12.6.1): restarted while every sponsor is away, a leaf
// still holds the certificate that covers its applied state, rather than
// nothing until a sponsor sends one again.

import { parseServerName, type RoomId, type ServerName } from "@parley/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, InProcessServers } from "./in-process-servers.ts";

const servers = new InProcessServers();
const a = parseServerName("a.test");
const c = parseServerName("c.test");

function certified(server: ServerName, room: RoomId) {
  return servers.get(server).clientApi.federation.driver.view((host) => {
    const session = host.session(room);
    return session === undefined
      ? null
      : { certificate: session.certificate, applied: session.replica.appliedIndex };
  });
}

beforeAll(() => servers.start(a, c));

afterAll(() => servers.closeAll());

describe("control certificates across a restart", () => {
  it("a restarted leaf starts with the certificate it had", async () => {
    const alice = await servers.user("alice", a);
    const carol = await servers.user("carol", c);
    const roomId = await servers.openRoomWithLeaf(alice, carol, a, "kept");
    await alice.act(roomId, { type: "set-topic", topic: "certified before the restart" });
    const sponsorIndex = (await certified(a, roomId))?.applied ?? 0;
    await eventually(async () => {
      const leaf = await certified(c, roomId);
      return (
        leaf !== null && leaf.applied >= sponsorIndex && leaf.certificate?.index === leaf.applied
      );
    });
    const before = await certified(c, roomId);
    expect(before?.certificate?.signatures.map(([server]) => server)).toEqual([a]);

    // No sponsor is left to send a certificate: what the leaf holds now came from its database.
    await servers.stop(a);
    await servers.stop(c);
    await servers.start(c);
    const after = await certified(c, roomId);
    expect(after?.applied).toBe(before?.applied);
    expect(after?.certificate).toEqual(before?.certificate);
  });
});
