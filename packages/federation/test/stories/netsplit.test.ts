/**
 * A story: a room with three sponsors and two leaves splits 2|3. Both sides
 * keep talking; only the majority can change the room. After the heal, every
 * server holds every message, in the same order, and the minority's messages
 * sit where its sponsor stamped them: before the majority's later control entries.
 */
import { describe, expect, it } from "vitest";
import { visibleHistory } from "../../src/message-lane/history-order.ts";
import { messageKey } from "../../src/message-lane/stamped-message.ts";
import { checkConvergence, isConverged } from "../../src/simulation/end-checks.ts";
import { createWorld, runUntil, setUp } from "../../src/simulation/run-seed.ts";

describe("a 2|3 netsplit", () => {
  it("keeps both sides talking and converges to one history after the heal", () => {
    const world = createWorld(42, { sponsorCount: 3, leafCount: 2, encodeFrames: true });
    expect(setUp(world)).toBe(true);
    const room = world.room;
    if (room === null) throw new Error("set up");
    const [s1, s2, s3, s4, s5] = world.servers;
    if (
      s1 === undefined ||
      s2 === undefined ||
      s3 === undefined ||
      s4 === undefined ||
      s5 === undefined
    ) {
      throw new Error("five servers");
    }
    const anchor = (server: typeof s1) => {
      const user = world.workload.users.find(
        (candidate) => candidate.server === server && candidate.anchor,
      );
      if (user === undefined) throw new Error("every server has an anchor user");
      return user;
    };
    // The admin makes s2's user a moderator, so it may change the topic.
    world.workload.propose(room, anchor(s1), {
      type: "set-role",
      target: anchor(s2).user,
      role: "moderator",
    });
    const isModerator = () =>
      s2.host?.session(room)?.replica.state?.members.get(anchor(s2).user)?.role === "moderator";
    expect(runUntil(world, () => isModerator() && isConverged(world), 5_000)).toBe(true);
    const indexBefore = s1.host?.session(room)?.replica.appliedIndex ?? 0;

    // s1 (a sponsor) and s4 (a leaf) on one side, the other sponsors and s5 on the other.
    world.network.partition([s1.name, s4.name], [s2.name, s3.name, s5.name]);
    world.scheduler.runUntil(world.scheduler.nowMs() + 1_500);
    for (const server of [s1, s4, s2, s5]) world.workload.sendMessage(room, anchor(server));
    world.workload.propose(room, anchor(s2), {
      type: "set-topic",
      topic: "decided by the majority",
    });
    world.workload.propose(room, anchor(s1), { type: "set-topic", topic: "the minority cannot" });
    world.scheduler.runUntil(world.scheduler.nowMs() + 3_000);

    const topic = (server: typeof s1) => server.host?.session(room)?.replica.state?.topic;
    expect(topic(s2)).toBe("decided by the majority");
    expect(topic(s1)).not.toBe("the minority cannot");
    expect(s1.host?.session(room)?.replica.appliedIndex).toBe(indexBefore);
    // Four messages were accepted, two on each side.
    expect(world.observer.acceptedKeys.size).toBeGreaterThanOrEqual(4);

    world.network.heal();
    expect(runUntil(world, () => isConverged(world), 15_000, 250)).toBe(true);
    checkConvergence(world);
    expect(world.observer.violations).toEqual([]);

    const history = visibleHistory(s3.storage.messages(room).all());
    const minority = history.filter((message) => message.origin.startsWith(`${s1.name}#`));
    expect(minority.length).toBeGreaterThanOrEqual(2);
    for (const message of minority) expect(message.controlIndex).toBe(indexBefore);
    for (const server of world.servers) {
      const keys = visibleHistory(server.storage.messages(room).all()).map(messageKey);
      expect(keys).toEqual(history.map(messageKey));
    }
    expect(topic(s1)).toBe("decided by the majority");
    expect(topic(s4 as typeof s1)).toBe("decided by the majority");
  });
});
