import type { UserId } from "@parley/protocol";
import { describe, expect, it } from "vitest";
import { describeRoomChange } from "./room-change-text.ts";

const alice = { type: "user", user: "alice@a" as UserId } as const;
const bob = "bob@b" as UserId;

describe("room changes in words", () => {
  it("names who did what to whom", () => {
    expect(describeRoomChange(alice, { type: "invite", target: bob })).toBe(
      "alice@a invited bob@b",
    );
    expect(describeRoomChange(alice, { type: "join" })).toBe("alice@a joined");
    expect(describeRoomChange(alice, { type: "kick", target: bob, reason: "spam" })).toBe(
      "alice@a removed bob@b: spam",
    );
    expect(describeRoomChange(alice, { type: "set-role", target: bob, role: "moderator" })).toBe(
      "alice@a made bob@b a moderator",
    );
    expect(describeRoomChange(alice, { type: "set-join-rule", joinRule: "open" })).toBe(
      "alice@a made the room open to anyone",
    );
    expect(describeRoomChange(alice, { type: "set-topic", topic: "" })).toBe(
      "alice@a cleared the topic",
    );
  });
});
