/**
 * A story: a sponsor is removed while it is cut off. It never hears of its
 * removal through Raft (the group no longer talks to it), so after the heal
 * it asks a sponsor, learns that the configuration has dropped it, retires
 * its node for good and follows the room as a leaf. Added back later, it runs
 * a new node: Raft node ids are never reused.
 */
import { describe, expect, it } from "vitest";
import { sponsorNodeId } from "../../src/identity/sponsor-node-id.ts";
import { checkConvergence, isConverged } from "../../src/simulation/end-checks.ts";
import { createWorld, runUntil, setUp } from "../../src/simulation/run-seed.ts";

describe("a sponsor removed while cut off", () => {
  it("retires its node, follows as a leaf, and comes back as a new node", () => {
    const world = createWorld(7, { sponsorCount: 3, leafCount: 1, encodeFrames: true });
    expect(setUp(world)).toBe(true);
    const room = world.room;
    const [s1, , s3] = world.servers;
    if (room === null || s1 === undefined || s3 === undefined) throw new Error("set up");
    const session = (server: typeof s1) => server.host?.session(room);
    const oldNode = session(s3)?.group?.id;
    expect(oldNode).toBe(sponsorNodeId(s3.name, 3));

    world.network.partition([s3.name]);
    world.scheduler.runUntil(world.scheduler.nowMs() + 1_000);
    const remove = world.workload.serverEntry(s1.name, { type: "remove-sponsor", server: s3.name });
    s1.run((host) => host.proposeControl(room, remove, world.workload.nextRequestId()));
    const dropped = () =>
      session(s1)?.group?.confState.voters.every((voter) => voter !== oldNode) === true;
    expect(runUntil(world, dropped, 5_000)).toBe(true);
    // Cut off, s3 still believes it sponsors the room.
    expect(session(s3)?.group?.id).toBe(oldNode);

    world.network.heal();
    expect(runUntil(world, () => isConverged(world), 15_000, 250)).toBe(true);
    expect(session(s3)?.group).toBeUndefined();
    expect(s3.storage.loadRoom(room)?.retiredIncarnation).toBe(3);
    expect(session(s3)?.attachment.acknowledged).toBe(true);

    const add = world.workload.serverEntry(s1.name, { type: "add-sponsor", server: s3.name });
    s1.run((host) => host.proposeControl(room, add, world.workload.nextRequestId()));
    const newNode = () => session(s3)?.group?.id;
    const isVoterAgain = () => {
      const node = newNode();
      return node !== undefined && session(s1)?.group?.confState.voters.includes(node) === true;
    };
    expect(runUntil(world, () => isVoterAgain() && isConverged(world), 15_000, 250)).toBe(true);
    const incarnation = session(s1)?.replica.incarnationOf(s3.name) ?? 0;
    expect(incarnation).toBeGreaterThan(3);
    expect(newNode()).toBe(sponsorNodeId(s3.name, incarnation));
    checkConvergence(world);
    expect(world.observer.violations).toEqual([]);
  });
});
