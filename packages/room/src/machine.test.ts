import { parseServerName, parseUserId, roomIdFromBytes, type UserId } from "@parley/protocol";
import { describe, expect, test } from "vitest";
import type { ControlEntry, RoomAction } from "./actions.ts";
import { authorizeMessage, mayRead } from "./authorize-message.ts";
import { RoomStateMachine } from "./machine.ts";
import { membershipOf, roleOf } from "./state.ts";

const alice = parseUserId("alice@a.example");
const bob = parseUserId("bob@b.example");
const carol = parseUserId("carol@c.example");
const dave = parseUserId("dave@a.example");

/** A room with a log, where each step proposes one entry and applies it at the next index. */
class RoomStory {
  readonly machine = new RoomStateMachine();

  by(user: UserId, action: RoomAction) {
    const entry: ControlEntry = { actor: { type: "user", user }, action, proposedAtMs: 1_000 };
    return this.machine.apply(entry, this.machine.appliedIndex + 1);
  }

  byServer(server: string, action: RoomAction) {
    const entry: ControlEntry = {
      actor: { type: "server", server: parseServerName(server) },
      action,
      proposedAtMs: 1_000,
    };
    return this.machine.apply(entry, this.machine.appliedIndex + 1);
  }

  get state() {
    const state = this.machine.state;
    if (state === undefined) throw new Error("room not created");
    return state;
  }
}

function createdBy(user: UserId, joinRule: "invite" | "open" | "knock" = "invite"): RoomStory {
  const story = new RoomStory();
  const outcome = story.by(user, {
    type: "create",
    roomId: roomIdFromBytes(new Uint8Array(16).fill(1)),
    kind: "plain",
    contentType: "text/plain",
    name: "General",
    topic: "",
    joinRule,
    sponsorPolicy: { mode: "invited-by-admin", sponsorsMax: 7 },
  });
  expect(outcome.verdict).toBe("accepted");
  return story;
}

describe("a room's life", () => {
  test("the creator is the first admin and their server the first sponsor", () => {
    const story = createdBy(alice);
    expect(membershipOf(story.state, alice)).toBe("joined");
    expect(roleOf(story.state, alice)).toBe("admin");
    expect(story.state.sponsors).toEqual(["a.example"]);
    expect(story.state.appliedIndex).toBe(1);
  });

  test("nothing but create can come first, and create comes only once", () => {
    const story = new RoomStory();
    expect(story.by(alice, { type: "join" })).toMatchObject({
      verdict: "rejected",
      code: "room_not_created",
    });
    expect(story.machine.state).toBeUndefined();
    const created = createdBy(alice);
    const again = created.by(alice, {
      type: "create",
      roomId: roomIdFromBytes(new Uint8Array(16).fill(2)),
      kind: "plain",
      contentType: "text/plain",
      name: "x",
      topic: "",
      joinRule: "open",
      sponsorPolicy: { mode: "fixed", sponsorsMax: 3 },
    });
    expect(again).toMatchObject({ verdict: "rejected", code: "room_already_created" });
  });

  test("an admin's invite brings the invitee's server in as a wanted sponsor", () => {
    const story = createdBy(alice);
    const outcome = story.by(alice, { type: "invite", target: bob });
    expect(outcome).toEqual({
      verdict: "accepted",
      index: 2,
      effects: [{ type: "sponsor-wanted", server: "b.example" }],
    });
    expect(story.by(bob, { type: "join" }).verdict).toBe("accepted");
    expect(membershipOf(story.state, bob)).toBe("joined");
  });

  test("a member's invite does not bring a sponsor, and joining an open room does not either", () => {
    const story = createdBy(alice, "open");
    expect(story.by(bob, { type: "join" })).toMatchObject({ verdict: "accepted", effects: [] });
    expect(story.by(bob, { type: "invite", target: carol })).toMatchObject({
      verdict: "accepted",
      effects: [],
    });
  });

  test("an uninvited user cannot join an invite-only room; a knock is accepted by an invite", () => {
    const story = createdBy(alice, "knock");
    expect(story.by(bob, { type: "join" })).toMatchObject({
      verdict: "rejected",
      code: "not_invited",
    });
    expect(story.by(bob, { type: "knock", reason: "hi" }).verdict).toBe("accepted");
    expect(membershipOf(story.state, bob)).toBe("knocking");
    expect(story.by(alice, { type: "invite", target: bob }).verdict).toBe("accepted");
    expect(story.by(bob, { type: "join" }).verdict).toBe("accepted");
  });

  test("a member cannot kick; a moderator can kick members but not admins", () => {
    const story = createdBy(alice, "open");
    story.by(bob, { type: "join" });
    story.by(carol, { type: "join" });
    expect(story.by(bob, { type: "kick", target: carol, reason: "" })).toMatchObject({
      verdict: "rejected",
      code: "forbidden",
    });
    expect(story.by(alice, { type: "set-role", target: bob, role: "moderator" }).verdict).toBe(
      "accepted",
    );
    expect(story.by(bob, { type: "kick", target: carol, reason: "spam" }).verdict).toBe("accepted");
    expect(membershipOf(story.state, carol)).toBe("left");
    expect(story.by(bob, { type: "kick", target: alice, reason: "" })).toMatchObject({
      verdict: "rejected",
      code: "forbidden",
    });
  });

  test("a banned user is cut off at once and cannot come back until unbanned", () => {
    const story = createdBy(alice, "open");
    story.by(bob, { type: "join" });
    expect(authorizeMessage(story.state, bob)).toEqual({ allowed: true });
    expect(story.by(alice, { type: "ban", target: bob, reason: "abuse" }).verdict).toBe("accepted");
    expect(authorizeMessage(story.state, bob)).toMatchObject({ allowed: false, code: "banned" });
    expect(mayRead(story.state, bob)).toBe(false);
    expect(story.by(bob, { type: "join" })).toMatchObject({ verdict: "rejected", code: "banned" });
    expect(story.by(alice, { type: "unban", target: bob }).verdict).toBe("accepted");
    expect(story.by(bob, { type: "join" }).verdict).toBe("accepted");
  });

  test("the last admin cannot leave or step down while others remain", () => {
    const story = createdBy(alice, "open");
    story.by(bob, { type: "join" });
    expect(story.by(alice, { type: "leave" })).toMatchObject({
      verdict: "rejected",
      code: "last_admin",
    });
    expect(story.by(alice, { type: "set-role", target: alice, role: "member" })).toMatchObject({
      verdict: "rejected",
      code: "last_admin",
    });
    story.by(alice, { type: "set-role", target: bob, role: "admin" });
    expect(story.by(alice, { type: "leave" }).verdict).toBe("accepted");
    // Admins cannot demote each other; roles reset when a member leaves.
    expect(roleOf(story.state, alice)).toBe("member");
  });

  test("roles: no one grants above their own role or acts on an equal", () => {
    const story = createdBy(alice, "open");
    story.by(bob, { type: "join" });
    story.by(carol, { type: "join" });
    story.by(alice, { type: "set-role", target: bob, role: "admin" });
    expect(story.by(bob, { type: "set-role", target: alice, role: "member" })).toMatchObject({
      verdict: "rejected",
      code: "forbidden",
    });
    story.by(alice, {
      type: "set-permissions",
      permissions: { ...story.state.permissions, setRoles: "moderator" },
    });
    story.by(alice, { type: "set-role", target: carol, role: "moderator" });
    expect(story.by(carol, { type: "set-role", target: carol, role: "admin" })).toMatchObject({
      verdict: "rejected",
      code: "forbidden",
    });
  });

  test("a server ACL refuses joins and posts from denied servers but never locks out its author", () => {
    const story = createdBy(alice, "open");
    story.by(bob, { type: "join" });
    expect(
      story.by(alice, { type: "set-server-acl", serverAcl: { allow: ["*"], deny: ["a.*"] } }),
    ).toMatchObject({ verdict: "rejected", code: "acl_locks_out_actor" });
    expect(
      story.by(alice, {
        type: "set-server-acl",
        serverAcl: { allow: ["*"], deny: ["*.b.example", "b.example"] },
      }).verdict,
    ).toBe("accepted");
    expect(authorizeMessage(story.state, bob)).toMatchObject({
      allowed: false,
      code: "server_denied",
    });
    expect(story.by(carol, { type: "join" }).verdict).toBe("accepted");
  });

  test("only sponsors change the sponsor set, within the policy's cap", () => {
    const story = createdBy(alice);
    expect(
      story.byServer("b.example", { type: "add-sponsor", server: parseServerName("b.example") }),
    ).toMatchObject({ verdict: "rejected", code: "not_sponsor" });
    expect(
      story.byServer("a.example", { type: "add-sponsor", server: parseServerName("b.example") })
        .verdict,
    ).toBe("accepted");
    expect(story.state.sponsors).toEqual(["a.example", "b.example"]);
    expect(
      story.by(alice, { type: "add-sponsor", server: parseServerName("c.example") }),
    ).toMatchObject({
      verdict: "rejected",
      code: "forbidden",
    });
    story.by(alice, {
      type: "set-sponsor-policy",
      sponsorPolicy: { mode: "fixed", sponsorsMax: 2 },
    });
    expect(
      story.byServer("a.example", { type: "add-sponsor", server: parseServerName("c.example") }),
    ).toMatchObject({ verdict: "rejected", code: "sponsor_limit_reached" });
    expect(
      story.byServer("b.example", { type: "remove-sponsor", server: parseServerName("a.example") })
        .verdict,
    ).toBe("accepted");
    expect(
      story.byServer("b.example", { type: "remove-sponsor", server: parseServerName("b.example") }),
    ).toMatchObject({ verdict: "rejected", code: "invalid_entry" });
  });

  test("in a private room every participating server sponsors, and stops when its last member goes", () => {
    const story = new RoomStory();
    story.by(alice, {
      type: "create",
      roomId: roomIdFromBytes(new Uint8Array(16).fill(3)),
      kind: "plain",
      contentType: "text/plain",
      name: "Private",
      topic: "",
      joinRule: "invite",
      sponsorPolicy: { mode: "every-participating-server", sponsorsMax: 7 },
    });
    expect(story.by(alice, { type: "invite", target: bob })).toMatchObject({
      effects: [{ type: "sponsor-wanted", server: "b.example" }],
    });
    story.byServer("a.example", { type: "add-sponsor", server: parseServerName("b.example") });
    story.by(bob, { type: "join" });
    expect(story.by(bob, { type: "leave" })).toMatchObject({
      effects: [{ type: "sponsor-unneeded", server: "b.example" }],
    });
    // alice's server keeps a member (dave is not there, but alice is), so leaving dave changes nothing.
    expect(story.by(alice, { type: "invite", target: dave })).toMatchObject({ effects: [] });
  });

  test("entries must apply in log order", () => {
    const story = createdBy(alice);
    const entry: ControlEntry = {
      actor: { type: "user", user: alice },
      action: { type: "leave" },
      proposedAtMs: 0,
    };
    expect(() => story.machine.apply(entry, 5)).toThrow(/in order/);
    expect(story.machine.check(entry)).toEqual({
      verdict: "accept",
      changes: expect.any(Array),
      effects: [],
    });
  });
});
