import { describe, expect, test } from "vitest";
import { commitLost } from "../../src/member/ordering.ts";
import { checkCommit } from "../../src/sponsor/commit-check.ts";
import { GroupStory } from "../story.ts";

describe("two concurrent commits for the same epoch", () => {
  test("the first ordered wins; the loser processes it and its retry is ordered", async () => {
    const story = await GroupStory.createdBy("alice");
    await story.add("alice", "bob", "carol");

    // Alice adds dave while Bob removes carol, both from epoch 2.
    const alicePending = await story.prepare("alice", { add: [await story.keyPackageOf("dave")] });
    const bobPending = await story.prepare("bob", { remove: [story.member("carol").self.device] });
    expect(alicePending.baseEpoch).toBe(bobPending.baseEpoch);

    // The sponsors order Alice's first; Bob's is then stale.
    const sponsorBefore = story.sponsor;
    await story.order("alice", alicePending, ["carol"]);
    if (story.sponsor === undefined || sponsorBefore === undefined) throw new Error("no sponsor");
    const stale = await checkCommit(story.sponsor, bobPending.commit, {
      nowMs: story.nowMs,
      groupInfo: bobPending.groupInfo,
    });
    expect(stale.kind === "failed" && stale.code).toBe("mls_stale_epoch");

    // Bob is told "stale epoch": he processes the winner and rebuilds his commit.
    const lost = await commitLost(story.member("bob"), bobPending, alicePending.commit, {
      nowMs: story.nowMs,
    });
    if (lost.kind !== "retry") throw new Error(`expected a retry, got ${lost.kind}`);
    expect(lost.winner.added.map((member) => member.user)).toEqual(["dave@example.org"]);
    expect(lost.pending.baseEpoch).toBe(alicePending.baseEpoch + 1n);
    expect(lost.pending.change.removed.map((member) => member.user)).toEqual(["carol@example.org"]);
    story.setMember("bob", lost.member);

    await story.order("bob", lost.pending);
    const message = await story.send("dave", "carol has left, dave has come");
    for (const name of ["alice", "bob"]) {
      await story.expectRead(name, message, "carol has left, dave has come", "dave");
    }
    const carol = await story.receive("carol", message);
    expect(carol.kind === "failed" && carol.code).toBe("mls_not_member");
  });

  test("a retry is not needed when the winner already did what the loser wanted", async () => {
    const story = await GroupStory.createdBy("alice");
    await story.add("alice", "bob");
    const daveKeyPackage = await story.keyPackageOf("dave");
    const alicePending = await story.prepare("alice", { add: [daveKeyPackage] });
    const bobPending = await story.prepare("bob", { add: [daveKeyPackage] });
    await story.order("alice", alicePending, []);
    const lost = await commitLost(story.member("bob"), bobPending, alicePending.commit, {
      nowMs: story.nowMs,
    });
    expect(lost.kind).toBe("settled");
  });

  test("a lost update (empty commit) is retried", async () => {
    const story = await GroupStory.createdBy("alice");
    await story.add("alice", "bob");
    const alicePending = await story.prepare("alice", {});
    const bobPending = await story.prepare("bob", {});
    await story.order("alice", alicePending, []);
    const lost = await commitLost(story.member("bob"), bobPending, alicePending.commit, {
      nowMs: story.nowMs,
    });
    if (lost.kind !== "retry") throw new Error(`expected a retry, got ${lost.kind}`);
    story.setMember("bob", lost.member);
    await story.order("bob", lost.pending);
    await story.expectRead("alice", await story.send("bob", "fresh keys"), "fresh keys", "bob");
  });

  test("messages read while a commit is pending stay read after it is accepted", async () => {
    const story = await GroupStory.createdBy("alice");
    await story.add("alice", "bob");
    const message = await story.send("bob", "sent before the commit");
    const pending = await story.prepare("alice", {});
    await story.expectRead("alice", message, "sent before the commit");
    await story.order("alice", pending);
    // The same message again (a duplicate delivery) is a replay for the old epoch.
    const again = await story.receive("alice", message);
    expect(again.kind === "failed" && again.code).toBe("mls_replayed");
  });
});
