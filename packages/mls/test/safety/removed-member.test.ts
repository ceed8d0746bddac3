import { describe, expect, test } from "vitest";
import { decodeWire } from "../../src/group/wire.ts";
import { ownLeafIndex } from "../../src/member/member.ts";
import { applyMemberCommitProposals, pathRecipientNodes } from "../../src/ts-mls-internals.ts";
import { GroupStory } from "../story.ts";

describe("a removed member cannot read the next epoch", () => {
  test.each([3, 8])(
    "in a group of %i, the update path encrypts to no key the removed member holds",
    async (size) => {
      const names = ["bob", "carol", "dave", "erin", "frank", "grace", "heidi"].slice(0, size - 1);
      const story = await GroupStory.createdBy("alice");
      await story.add("alice", ...names);
      // Fill the tree so the removed member holds parent keys too, not only its leaf.
      for (const name of names.slice(0, 3)) await story.commit(name, {});
      const victim = names[1] ?? "";
      const victimState = story.member(victim).state;
      const sponsorBefore = story.sponsor;
      if (sponsorBefore === undefined) throw new Error("no sponsor");

      const pending = await story.remove("alice", victim);
      const decoded = decodeWire(pending.commit, "mls_public_message");
      if (decoded.kind === "failed" || decoded.value.content.contentType !== "commit") {
        throw new Error("no commit");
      }
      const applied = await applyMemberCommitProposals(
        sponsorBefore,
        decoded.value.content.commit.proposals,
        ownLeafIndex(story.member("alice")),
        story.crypto.clientConfig,
        story.crypto.cipherSuite,
      );
      const recipients = pathRecipientNodes(
        applied.tree,
        ownLeafIndex(story.member("alice")),
        applied.addedLeaves,
      ).flat();
      const victimKeys = Object.keys(victimState.privatePath.privateKeys).map(Number);
      expect(victimKeys.length).toBeGreaterThan(1);
      expect(recipients.length).toBeGreaterThan(0);
      expect(recipients.filter((node) => victimKeys.includes(node))).toEqual([]);

      const secret = await story.send("alice", "not for the removed");
      const outcome = await story.receive(victim, secret);
      expect(outcome.kind === "failed" && outcome.code).toBe("mls_not_member");
      await story.expectRead(names[0] ?? "", secret, "not for the removed");
    },
  );

  test("messages sent before the removal still read for the removed member", async () => {
    const story = await GroupStory.createdBy("alice");
    await story.add("alice", "bob", "carol");
    const before = await story.send("bob", "still a member when this was sent");
    await story.remove("alice", "carol");
    await story.expectRead("carol", before, "still a member when this was sent", "bob");
  });
});
