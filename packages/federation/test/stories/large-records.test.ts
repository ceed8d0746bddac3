/**
 * Control records far larger than a chat entry (docs/protocol.md §12.2.1: up
 * to 3 MiB, as an encrypted room's entry with a large group's ratchet tree):
 * they commit through the sponsors' Raft group, feed an attached leaf live,
 * and reach a leaf that was down through catch-up frames, with every frame
 * going through the wire codec. The entries here are server ACLs of 512
 * long patterns (about 135 KiB each, twice the old 64 KiB record limit).
 */
import type { ServerName } from "@parley/protocol";
import type { RoomAction } from "@parley/room";
import { describe, expect, it } from "vitest";
import { isConverged } from "../../src/simulation/end-checks.ts";
import { createWorld, runUntil, setUp } from "../../src/simulation/run-seed.ts";

function largeAcl(round: number): RoomAction {
  const label = "x".repeat(60);
  const deny = Array.from(
    { length: 512 },
    (_, position) => `r${round}-p${position}.${label}.${label}.${label}.invalid`,
  );
  return { type: "set-server-acl", serverAcl: { allow: ["*"], deny } };
}

function aclAction(action: RoomAction) {
  if (action.type !== "set-server-acl") throw new Error("an ACL change");
  return action.serverAcl;
}

function settledWorld() {
  const world = createWorld(13, { sponsorCount: 3, leafCount: 1, encodeFrames: true });
  expect(setUp(world)).toBe(true);
  expect(runUntil(world, () => isConverged(world), 10_000, 250)).toBe(true);
  const room = world.room;
  const creator = world.workload.users[0];
  const leaf = world.leaves[0];
  if (room === null || creator === undefined || leaf === undefined) throw new Error("set up");
  return { world, room, creator, leaf };
}

function aclOf(world: ReturnType<typeof settledWorld>["world"], server: ServerName) {
  const room = world.room;
  const host = world.servers.find((candidate) => candidate.name === server)?.host;
  return room === null ? undefined : host?.session(room)?.replica.state?.serverAcl;
}

describe("large control records", () => {
  it("commit on every sponsor and feed the attached leaf", () => {
    const { world, room, creator, leaf } = settledWorld();
    const before = leaf.host?.session(room)?.replica.appliedIndex ?? 0;
    for (let round = 1; round <= 3; round += 1) {
      world.workload.propose(room, creator, largeAcl(round));
    }
    const last = aclAction(largeAcl(3));
    const everywhere = () =>
      world.servers.every((server) => aclOf(world, server.name)?.deny[0] === last.deny[0]);
    expect(runUntil(world, everywhere, 20_000, 100)).toBe(true);
    expect(runUntil(world, () => isConverged(world), 20_000, 250)).toBe(true);
    expect(leaf.host?.session(room)?.replica.appliedIndex).toBe(before + 3);
    for (const server of world.servers) expect(aclOf(world, server.name)).toEqual(last);
  });

  it("reach a leaf that was down, through catch-up", () => {
    const { world, room, creator, leaf } = settledWorld();
    leaf.crash();
    for (let round = 1; round <= 6; round += 1) {
      world.workload.propose(room, creator, largeAcl(round));
      expect(
        runUntil(
          world,
          () => aclOf(world, creator.server.name)?.deny[0]?.startsWith(`r${round}-`) === true,
          5_000,
          100,
        ),
      ).toBe(true);
    }
    leaf.start();
    expect(runUntil(world, () => isConverged(world), 30_000, 250)).toBe(true);
    expect(aclOf(world, leaf.name)).toEqual(aclAction(largeAcl(6)));
  });
});
