// Room administration through the SDK against a real homeserver: knocking
// and letting in, roles, name and topic, kick, ban and unban — each seen as
// typed events by the members and refused with the room's own codes.

import type { ClientEvent, RoomChangeEvent } from "@parley/client";
import { ServerError } from "@parley/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startTestHomeserver, type TestHomeserver } from "./homeserver-fixture.ts";

let homeserver: TestHomeserver;

beforeAll(async () => {
  homeserver = await startTestHomeserver();
});

afterAll(async () => {
  await homeserver.close();
});

async function refusal(promise: Promise<unknown>): Promise<ServerError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ServerError) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("room administration", () => {
  it("knock and accept, roles, name and topic, kick, ban and unban", async () => {
    const alice = await homeserver.user("alice");
    const bob = await homeserver.user("bob");
    const aliceEvents: ClientEvent[] = [];
    const bobEvents: ClientEvent[] = [];
    alice.onEvent((event) => aliceEvents.push(event));
    bob.onEvent((event) => bobEvents.push(event));
    await alice.start();
    await bob.start();
    const { roomId } = await alice.createRoom({ name: "club", joinRule: "knock" });

    await bob.knock(roomId, "let me in");
    expect(await bob.rooms()).toEqual([
      expect.objectContaining({ roomId, membership: "knocking" }),
    ]);
    await alice.acceptKnock(roomId, bob.userId);
    await bob.join(roomId);
    await alice.setRole(roomId, bob.userId, "moderator");
    await alice.setName(roomId, "the club");
    await alice.setTopic(roomId, "members only");
    const state = await bob.roomState(roomId);
    expect(state).toMatchObject({ name: "the club", topic: "members only", role: "moderator" });

    const changes = () =>
      bobEvents
        .filter((event): event is RoomChangeEvent => event.type === "room-change")
        .map((event) => event.action.type);
    await eventually(() => changes().includes("set-topic"));
    expect(changes()).toEqual(
      expect.arrayContaining(["join", "set-role", "set-name", "set-topic"]),
    );

    // A moderator may not demote the admin: the room's own code comes back.
    expect(await refusal(bob.setRole(roomId, alice.userId, "member"))).toMatchObject({
      code: "forbidden",
    });

    await alice.kick(roomId, bob.userId, "too loud");
    const kicked = () =>
      bobEvents.find((event) => event.type === "membership" && event.membership === "left");
    await eventually(() => kicked() !== undefined);
    expect(kicked()).toMatchObject({
      roomId,
      membership: "left",
      by: alice.userId,
      reason: "too loud",
    });
    await alice.ban(roomId, bob.userId, "still too loud");
    expect(await refusal(bob.knock(roomId))).toMatchObject({
      code: "forbidden",
      roomCode: "banned",
    });
    await alice.unban(roomId, bob.userId);
    await bob.knock(roomId, "sorry");
    const members = await alice.allMembers(roomId);
    expect(members.find((member) => member.userId === bob.userId)?.membership).toBe("knocking");
  });
});
