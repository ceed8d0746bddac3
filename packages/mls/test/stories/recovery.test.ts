import { createGroupInfoWithExternalPub } from "ts-mls";
import { describe, expect, test } from "vitest";
import { decodeWire, encodeGroupInfo, encodePublicMessage } from "../../src/group/wire.ts";
import type { PendingCommit } from "../../src/member/commit.ts";
import { prepareRejoin, rejoinAccepted } from "../../src/member/external-join.ts";
import { epochOf } from "../../src/member/member.ts";
import { commitAccepted } from "../../src/member/ordering.ts";
import { externalJoinMaterial } from "../../src/sponsor/public-group.ts";
import { GroupStory } from "../story.ts";

/**
 * What a malicious member can do that no sponsor can see: a commit whose
 * confirmation tag (unsigned, and checkable only with the epoch's secrets)
 * is wrong, with a GroupInfo that agrees with it. The signature, the rules
 * and the public tree all check out.
 */
async function withBrokenConfirmationTag(
  story: GroupStory,
  pending: PendingCommit,
): Promise<PendingCommit> {
  const decoded = decodeWire(pending.commit, "mls_public_message");
  if (decoded.kind === "failed" || decoded.value.auth.contentType !== "commit") {
    throw new Error("not a commit");
  }
  const tag = Uint8Array.from(decoded.value.auth.confirmationTag);
  tag[0] = (tag[0] ?? 0) ^ 0xff;
  const commit = encodePublicMessage({
    ...decoded.value,
    auth: { ...decoded.value.auth, confirmationTag: tag },
  });
  const groupInfo = await createGroupInfoWithExternalPub(
    { ...pending.newState, confirmationTag: tag },
    [],
    story.crypto.cipherSuite,
  );
  return { ...pending, commit, groupInfo: encodeGroupInfo(groupInfo) };
}

async function rejoin(
  story: GroupStory,
  name: string,
  deliverTo: readonly string[],
): Promise<Uint8Array> {
  if (story.sponsor === undefined) throw new Error("no sponsor");
  const material = externalJoinMaterial(story.sponsor);
  if (material === undefined) throw new Error("the sponsors hold no GroupInfo");
  const prepared = await prepareRejoin(story.member(name), story.device(name).identity, {
    ...material,
    nowMs: story.nowMs,
  });
  if (prepared.kind === "failed") throw new Error(prepared.detail);
  const checked = await story.sponsorChecks(prepared.pending);
  expect(checked?.change.externalJoin).toBe(true);
  expect(checked?.change.removed.map((member) => member.user)).toEqual([`${name}@example.org`]);
  story.setMember(name, rejoinAccepted(story.member(name), prepared.pending));
  for (const other of deliverTo) {
    const outcome = await story.receive(other, prepared.pending.commit);
    expect(outcome.kind).toBe("commit");
  }
  return prepared.pending.commit;
}

describe("a member that cannot process an ordered commit", () => {
  test("rejoins by external commit from the GroupInfo the sponsors hold", async () => {
    const story = await GroupStory.createdBy("alice");
    await story.add("alice", "bob", "carol");

    const honest = await story.prepare("alice", {});
    const broken = await withBrokenConfirmationTag(story, honest);
    await story.sponsorChecks(broken); // the sponsors cannot tell: it is ordered
    story.setMember("alice", commitAccepted(story.member("alice"), honest));

    for (const name of ["bob", "carol"]) {
      const outcome = await story.receive(name, broken.commit);
      expect(outcome.kind === "failed" && outcome.code).toBe("mls_commit_unprocessable");
    }

    // Bob, then Carol, rejoin from what the sponsors serve; each replaces its old leaf.
    const bobRejoin = await rejoin(story, "bob", []);
    await rejoin(story, "carol", ["bob"]);
    expect(epochOf(story.member("bob"))).toBe(epochOf(story.member("carol")));
    await story.expectRead("carol", await story.send("bob", "we are back"), "we are back", "bob");
    await story.expectRead("bob", await story.send("carol", "so we are"), "so we are", "carol");

    // The committer kept the true confirmation tag, so its transcript differs from the
    // one the group continued on: it cannot follow, and would have to rejoin too.
    const alice = await story.receive("alice", bobRejoin);
    expect(alice.kind === "failed" && alice.code).toBe("mls_commit_unprocessable");
  });

  test("a device that lost its state rejoins in place of its old leaf", async () => {
    const story = await GroupStory.createdBy("alice");
    await story.add("alice", "bob");
    const before = story.member("bob").self.device;
    await rejoin(story, "bob", ["alice"]);
    expect(story.member("bob").self.device).toBe(before);
    await story.expectRead(
      "alice",
      await story.send("bob", "same device, new leaf"),
      "same device, new leaf",
      "bob",
    );
  });
});
