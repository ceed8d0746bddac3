import { describe, expect, test } from "vitest";
import { loadSponsorGroup } from "../../src/sponsor/public-group.ts";
import { testRoom } from "../devices.ts";
import { GroupStory } from "../story.ts";

/**
 * A device added into a slot freed by a removal, under parent nodes another
 * member's commit refreshed, is an unmerged leaf of its parent but not of
 * the root the adder's path refreshed. RFC 9420 §7.9.2 asks only that it be
 * unmerged at every node between it and the parent that lists it; ts-mls
 * 1.6.4 compared every node on its direct path with that parent's whole
 * list, so it refused this honest tree: the new device could not join from
 * its Welcome, and the sponsors could not load the room's group.
 */
describe("a device added where a removed one was", () => {
  test("leaves a tree that later joiners and the sponsors accept", async () => {
    // Eight leaves: alice 0, bob 1, carol 2, dave 3, eve 4, frank 5, gina 6, hank 7.
    const story = await GroupStory.createdBy("alice");
    await story.add("alice", "bob", "carol", "dave", "eve", "frank", "gina", "hank");
    // Carol's removal blanks her direct path; alice's own path then refreshes
    // the parent of leaves 0–3 and the root.
    await story.remove("alice", "carol");
    // Eve, in the other half, adds ivy at carol's old leaf: ivy is unmerged at
    // the parent of leaves 0–3 and at the root. Eve's next commit refreshes
    // her path, the root among it (clearing its list), but not that parent.
    await story.add("eve", "ivy");
    await story.commit("eve", {});
    // Judy joins a group whose tree has ivy unmerged below the root only.
    const added = await story.add("eve", "judy");
    expect(story.member("judy")).toBeDefined();
    const loaded = await loadSponsorGroup(story.crypto, {
      roomId: testRoom,
      groupInfo: added.groupInfo,
      ratchetTree: added.ratchetTree,
    });
    expect(loaded.kind === "failed" ? loaded.detail : loaded.kind).toBe("loaded");
  });
});
