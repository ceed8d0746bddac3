// Delivery receipts between servers (docs/protocol.md §12.13) with three
// homeservers in one process: a room on A, bob of B (a sponsor) and carol of
// C (a leaf). The sender's server learns from the others' receipts that they
// hold a message and how many of their devices acknowledged it, and tells the
// sender's sockets (§10.14) — never ahead of what the devices acknowledged.

import { StreamClient } from "@parley/cli/client";
import { type DeliveryItemJson, parseServerName, type ServerName } from "@parley/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, InProcessServers } from "./in-process-servers.ts";

const servers = new InProcessServers();
const a = parseServerName("a.test");
const b = parseServerName("b.test");
const c = parseServerName("c.test");

function urlOf(name: ServerName): string {
  return servers.get(name).url;
}

function latest(stream: StreamClient, position: number): DeliveryItemJson | undefined {
  return stream.deliveries.filter((item) => item.position === position).at(-1);
}

beforeAll(() => servers.start(a, b, c));

afterAll(() => servers.closeAll());

describe("delivery receipts across servers", () => {
  it("count the other servers and their devices as they acknowledge", async () => {
    const alice = await servers.user("alice", a);
    const bob = await servers.user("bob", b);
    const carol = await servers.user("carol", c);
    const { roomId } = await alice.createRoom({
      clientId: "r",
      name: "receipts",
      joinRule: "open",
    });
    await alice.act(roomId, { type: "invite", target: "bob@b.test" });
    await eventually(async () => {
      const rooms = await bob.request<{ rooms: Array<{ roomId: string }> }>("GET", "/rooms");
      return rooms.rooms.some((room) => room.roomId === roomId);
    });
    await bob.act(roomId, { type: "join" });
    await carol.request("POST", `/rooms/${roomId}/actions`, { action: { type: "join" }, via: [a] });
    await eventually(async () => {
      const state = await alice.request<{ joinedMembers: number }>("GET", `/rooms/${roomId}`);
      return state.joinedMembers === 3;
    });

    const aliceStream = await StreamClient.connect(urlOf(a), alice.accessToken ?? "");
    const bobStream = await StreamClient.connect(urlOf(b), bob.accessToken ?? "", {
      autoAcknowledge: true,
    });
    // Carol's device reads but does not acknowledge yet.
    const carolStream = await StreamClient.connect(urlOf(c), carol.accessToken ?? "");
    const accepted = await aliceStream.sendMessage(
      roomId,
      alice.signMessage(roomId, "to every server", { clientId: "m1" }),
    );
    const position = accepted.streamPosition;
    await carolStream.waitFor(
      () => carolStream.events.some((event) => event.clientId === "m1"),
      20_000,
    );
    await aliceStream.waitFor(() => {
      const item = latest(aliceStream, position);
      return (
        item?.servers.delivered === 3 && item.devices.delivered === 1 && item.devices.total === 2
      );
    }, 20_000);
    // Bob acknowledged, carol did not: one of the two devices.
    expect(latest(aliceStream, position)).toEqual({
      roomId,
      position,
      servers: { delivered: 3, total: 3 },
      devices: { delivered: 1, total: 2 },
      refused: [],
    });

    carolStream.acknowledge({ stream: carolStream.through });
    await aliceStream.waitFor(() => latest(aliceStream, position)?.devices.delivered === 2, 20_000);
    expect(latest(aliceStream, position)?.devices).toEqual({ delivered: 2, total: 2 });

    // The leaf's user hears of its own message from the sponsors' receipts too.
    const carolSent = await carolStream.sendMessage(
      roomId,
      carol.signMessage(roomId, "from the leaf", { clientId: "m2" }),
    );
    await carolStream.waitFor(
      () => latest(carolStream, carolSent.streamPosition)?.servers.delivered === 3,
      20_000,
    );
    const counts = aliceStream.deliveries.map((item) => item.devices.delivered);
    expect(counts).toEqual([...counts].sort((left, right) => left - right));
    await Promise.all([aliceStream.close(), bobStream.close(), carolStream.close()]);
  });
});
