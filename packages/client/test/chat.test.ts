// Two users chatting through the SDK against a real homeserver on loopback.

import type { ClientEvent, HistoryEvent, RoomMessageEvent } from "@parley/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startTestHomeserver, type TestHomeserver } from "./homeserver-fixture.ts";

let homeserver: TestHomeserver;

beforeAll(async () => {
  homeserver = await startTestHomeserver();
});

afterAll(async () => {
  await homeserver.close();
});

function recorder() {
  const events: ClientEvent[] = [];
  return {
    events,
    record: (event: ClientEvent) => events.push(event),
    texts: () =>
      events
        .filter((event): event is RoomMessageEvent => event.type === "message")
        .map((event) => event.text),
  };
}

describe("two users chat", () => {
  it("alice invites bob, bob accepts, both see each other's messages live and in history", async () => {
    const alice = await homeserver.user("alice");
    const bob = await homeserver.user("bob");
    const aliceSeen = recorder();
    const bobSeen = recorder();
    alice.onEvent(aliceSeen.record);
    bob.onEvent(bobSeen.record);
    await alice.start();
    await bob.start();
    await alice.connected();
    await bob.connected();

    const { roomId } = await alice.createRoom({ name: "lunch", topic: "where?" });
    await alice.invite(roomId, bob.userId);
    await eventually(() => bobSeen.events.some((event) => event.type === "invite"));
    expect(bobSeen.events.find((event) => event.type === "invite")).toMatchObject({
      roomId,
      by: alice.userId,
      roomName: "lunch",
    });
    await bob.join(roomId);

    const hello = await alice.send(roomId, "hello bob");
    expect(hello.state.status).toBe("pending");
    expect(await hello.settled()).toMatchObject({ status: "accepted" });
    await (await bob.send(roomId, "hi alice")).settled();

    for (const seen of [aliceSeen, bobSeen]) {
      await eventually(() => seen.texts().length === 2);
      expect(seen.texts()).toEqual(["hello bob", "hi alice"]);
    }
    const fromAlice = bobSeen.events.find(
      (event): event is RoomMessageEvent => event.type === "message" && event.text === "hello bob",
    );
    expect(fromAlice).toMatchObject({
      sender: alice.userId,
      deviceId: alice.deviceId,
      fromThisDevice: false,
    });
    // Delivery truth (§10.14): the one server holds it at once; Bob's device
    // counts once it acknowledged the message, which the server reports.
    const helloDeliveries = () =>
      aliceSeen.events.flatMap((event) =>
        event.type === "delivery" && event.clientId === hello.clientId ? [event.state] : [],
      );
    await eventually(() =>
      helloDeliveries().some(
        (state) => state.status === "delivered" && state.progress?.devices.delivered === 1,
      ),
    );
    const statuses = helloDeliveries().map((state) => state.status);
    expect(statuses.slice(0, 2)).toEqual(["pending", "accepted"]);
    expect(statuses.at(-1)).toBe("delivered");
    expect(helloDeliveries().at(-1)).toMatchObject({
      progress: { servers: { delivered: 1, total: 1 }, devices: { delivered: 1, total: 1 } },
    });

    const state = await bob.roomState(roomId);
    expect(state).toMatchObject({
      name: "lunch",
      topic: "where?",
      joinedMembers: 2,
      membership: "joined",
    });
    const members = await alice.allMembers(roomId);
    expect(members.map((member) => member.userId).sort()).toEqual(
      [alice.userId, bob.userId].sort(),
    );
    expect(await bob.rooms()).toEqual([expect.objectContaining({ roomId, membership: "joined" })]);

    const history = await bob.history(roomId, { direction: "forward" });
    expect(history.events.map((event) => event.type)).toEqual([
      "room-change",
      "room-change",
      "room-change",
      "message",
      "message",
    ]);
  });

  it("pages history in history order with cursors, both ways, and arrival order by sequence", async () => {
    const alice = await homeserver.user("carol");
    const { roomId } = await alice.createRoom({ name: "pages" });
    const sent = ["one", "two", "three", "four", "five"];
    for (const text of sent) await (await alice.send(roomId, text)).settled();
    const textsOf = (events: readonly HistoryEvent[]) =>
      events.flatMap((event) => (event.type === "message" ? [event.text ?? ""] : []));

    // Backward in pages of two: newest first, every event once, cursors opaque strings.
    const backward: string[] = [];
    let from: string | undefined;
    for (let page = 0; page < 10; page += 1) {
      const answer = await alice.history(roomId, {
        limit: 2,
        ...(from === undefined ? {} : { from }),
      });
      expect(typeof answer.next).toBe("string");
      backward.push(...textsOf(answer.events));
      if (!answer.more || answer.next === null) break;
      from = answer.next;
    }
    expect(backward).toEqual([...sent].reverse());
    const forward = await alice.history(roomId, { direction: "forward", limit: 100 });
    expect(textsOf(forward.events)).toEqual(sent);
    // A cursor names a place, not a direction: forward from the newest page's cursor is empty.
    const newest = await alice.history(roomId, { limit: 1 });
    expect(newest.next).not.toBeNull();
    const after = await alice.history(roomId, {
      direction: "forward",
      ...(newest.next === null ? {} : { from: newest.next }),
    });
    expect(after.events).toEqual([]);

    // Arrival order pages by room sequence (the stream's order on this server).
    const arrivals = await alice.arrivals(roomId, { direction: "forward", limit: 100 });
    expect(textsOf(arrivals.events)).toEqual(sent);
    const lastTwo = await alice.arrivals(roomId, {
      direction: "forward",
      from: arrivals.events.at(-3)?.sequence ?? 0,
    });
    expect(textsOf(lastTwo.events)).toEqual(["four", "five"]);
  });
});
