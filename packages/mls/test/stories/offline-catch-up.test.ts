import { describe, expect, test } from "vitest";
import { epochOf } from "../../src/member/member.ts";
import { GroupStory } from "../story.ts";

describe("a member offline across two epochs", () => {
  test("catches up by processing the commits in order, and reads what was sent meanwhile", async () => {
    const story = await GroupStory.createdBy("alice");
    await story.add("alice", "bob", "carol");
    const startEpoch = epochOf(story.member("carol"));

    // Carol goes offline. Two commits are ordered and messages are sent in each epoch.
    const beforeFirst = await story.send("bob", "sent before carol left the network");
    const first = await story.commit("alice", { add: [await story.keyPackageOf("dave")] }, ["bob"]);
    const inFirst = await story.send("alice", "dave is here");
    const second = await story.commit("bob", {}, ["alice", "dave"]);
    const inSecond = await story.send("dave", "hello from dave");

    // Back online, carol first sees a message she cannot read yet.
    const early = await story.receive("carol", inSecond);
    expect(early.kind === "failed" && early.code).toBe("mls_epoch_in_future");
    // Commits must be processed in order: the second one alone is from the future.
    const outOfOrder = await story.receive("carol", second.commit);
    expect(outOfOrder.kind === "failed" && outOfOrder.code).toBe("mls_epoch_in_future");

    for (const commit of [first.commit, second.commit]) {
      const outcome = await story.receive("carol", commit);
      expect(outcome.kind).toBe("commit");
    }
    expect(epochOf(story.member("carol"))).toBe(startEpoch + 2n);

    // Every message of the last epochs reads, whichever epoch it was sent in.
    await story.expectRead("carol", inSecond, "hello from dave", "dave");
    await story.expectRead("carol", inFirst, "dave is here", "alice");
    await story.expectRead("carol", beforeFirst, "sent before carol left the network", "bob");

    // A commit she already processed is refused as old, not applied twice.
    const replayed = await story.receive("carol", first.commit);
    expect(replayed.kind === "failed" && replayed.code).toBe("mls_epoch_too_old");
  });
});
