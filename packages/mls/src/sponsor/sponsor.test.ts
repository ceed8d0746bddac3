import { describe, expect, test } from "vitest";
import { otherRoom, testRoom } from "../../test/devices.ts";
import { GroupStory } from "../../test/story.ts";
import { proposeLeave } from "../member/external-join.ts";
import { createRoomGroup } from "../member/join.ts";
import { groupInfoOf, ratchetTreeOf } from "../member/member.ts";
import { checkCommit } from "./commit-check.ts";
import {
  checkProposal,
  loadSponsorGroup,
  offerGroupInfo,
  type SponsorGroup,
} from "./public-group.ts";
import { decodeSponsorGroup, encodeSponsorGroup } from "./snapshot.ts";

async function storyOfThree() {
  const story = await GroupStory.createdBy("alice");
  await story.add("alice", "bob", "carol");
  return story;
}

function sponsorOf(story: GroupStory): SponsorGroup {
  if (story.sponsor === undefined) throw new Error("no sponsor");
  return story.sponsor;
}

function flip(bytes: Uint8Array, offset: number): Uint8Array {
  const copy = Uint8Array.from(bytes);
  const index = offset < 0 ? copy.length + offset : offset;
  copy[index] = (copy[index] ?? 0) ^ 0x01;
  return copy;
}

describe("the sponsors' public view", () => {
  test("lists what a commit does: the devices added and removed, and the committer", async () => {
    const story = await storyOfThree();
    const pending = await story.prepare("bob", {
      add: [await story.keyPackageOf("dave"), await story.keyPackageOf("erin")],
      remove: [story.member("carol").self.device],
    });
    const checked = await story.sponsorChecks(pending);
    expect(checked?.change.committer.user).toBe("bob@example.org");
    expect(checked?.change.added.map((member) => member.user)).toEqual([
      "dave@example.org",
      "erin@example.org",
    ]);
    expect(checked?.change.removed.map((member) => member.device)).toEqual([
      story.member("carol").self.device,
    ]);
    expect(checked?.change.updatePath).toBe(true);
  });

  test("refuses a commit whose signature does not verify, or for another epoch", async () => {
    const story = await storyOfThree();
    const sponsor = sponsorOf(story);
    const pending = await story.prepare("bob", {});
    const options = { nowMs: story.nowMs, groupInfo: pending.groupInfo };
    const forged = await checkCommit(sponsor, flip(pending.commit, 40), options);
    expect(forged.kind).toBe("failed");
    // From the end: membership tag (33 bytes), confirmation tag (33), then the signature.
    const badSignature = await checkCommit(sponsor, flip(pending.commit, -100), options);
    expect(badSignature.kind === "failed" && badSignature.code).toBe("mls_authentication_failed");

    await story.order("bob", pending);
    const stale = await checkCommit(sponsorOf(story), pending.commit, options);
    expect(stale.kind === "failed" && stale.code).toBe("mls_stale_epoch");
    const next = await story.prepare("alice", {});
    const future = await checkCommit(sponsor, next.commit, {
      nowMs: story.nowMs,
      groupInfo: next.groupInfo,
    });
    expect(future.kind === "failed" && future.code).toBe("mls_epoch_in_future");
  });

  test("refuses a commit of another room's group", async () => {
    const story = await storyOfThree();
    const elsewhere = await createRoomGroup(story.crypto, story.device("alice").identity, {
      roomId: otherRoom,
      nowMs: story.nowMs,
    });
    const loaded = await loadSponsorGroup(story.crypto, {
      roomId: otherRoom,
      groupInfo: elsewhere.groupInfo,
      ratchetTree: elsewhere.ratchetTree,
    });
    if (loaded.kind === "failed") throw new Error(loaded.detail);
    const pending = await story.prepare("alice", {});
    const checked = await checkCommit(loaded.group, pending.commit, {
      nowMs: story.nowMs,
      groupInfo: pending.groupInfo,
    });
    expect(checked.kind === "failed" && checked.code).toBe("mls_wrong_group");
  });

  test("requires the GroupInfo and tree sent with a commit to be the ones it leads to", async () => {
    const story = await storyOfThree();
    const sponsor = sponsorOf(story);
    const pending = await story.prepare("bob", {});
    const oldGroupInfo = await groupInfoOf(story.member("bob"));
    const wrongInfo = await checkCommit(sponsor, pending.commit, {
      nowMs: story.nowMs,
      groupInfo: oldGroupInfo,
    });
    expect(wrongInfo.kind).toBe("failed");
    const wrongTree = await checkCommit(sponsor, pending.commit, {
      nowMs: story.nowMs,
      groupInfo: pending.groupInfo,
      ratchetTree: ratchetTreeOf(story.member("bob")),
    });
    expect(wrongTree.kind === "failed" && wrongTree.code).toBe("mls_rule_violation");
  });

  test("refuses adds whose KeyPackage expired by the sponsor's clock", async () => {
    const story = await storyOfThree();
    const pending = await story.prepare("alice", { add: [await story.keyPackageOf("dave")] });
    const later = story.nowMs + 365 * 24 * 60 * 60 * 1000;
    const checked = await checkCommit(sponsorOf(story), pending.commit, {
      nowMs: later,
      groupInfo: pending.groupInfo,
    });
    expect(checked.kind === "failed" && checked.code).toBe("mls_key_package_invalid");
  });

  test("checks a request to leave and keeps it for the commit that applies it", async () => {
    const story = await storyOfThree();
    const proposal = await proposeLeave(story.member("carol"));
    const checked = await checkProposal(sponsorOf(story), proposal);
    if (checked.kind === "failed") throw new Error(checked.detail);
    expect(checked.proposal.removed.user).toBe("carol@example.org");
    expect(Object.keys(checked.next.proposals)).toHaveLength(1);
    const tampered = await checkProposal(sponsorOf(story), flip(proposal, -70));
    expect(tampered.kind).toBe("failed");
  });

  test("accepts a member's GroupInfo for its epoch, and no other", async () => {
    const story = await storyOfThree();
    const sponsor = sponsorOf(story);
    const accepted = await offerGroupInfo(sponsor, await groupInfoOf(story.member("carol")));
    expect(accepted.kind).toBe("accepted");
    const previous = accepted.kind === "accepted" ? accepted.next.groupInfo : undefined;
    await story.commit("bob", {});
    const current = await offerGroupInfo(
      sponsorOf(story),
      await groupInfoOf(story.member("carol")),
    );
    expect(current.kind).toBe("accepted");
    const old = await offerGroupInfo(sponsorOf(story), previous ?? new Uint8Array());
    expect(old.kind === "failed" && old.code).toBe("mls_stale_epoch");
  });

  test("loading refuses a tree that is not the GroupInfo's", async () => {
    const story = await storyOfThree();
    const groupInfo = await groupInfoOf(story.member("alice"));
    const before = ratchetTreeOf(story.member("alice"));
    await story.commit("bob", {});
    const loaded = await loadSponsorGroup(story.crypto, {
      roomId: testRoom,
      groupInfo,
      ratchetTree: ratchetTreeOf(story.member("alice")),
    });
    expect(loaded.kind === "failed" && loaded.code).toBe("mls_rule_violation");
    const fine = await loadSponsorGroup(story.crypto, {
      roomId: testRoom,
      groupInfo,
      ratchetTree: before,
    });
    expect(fine.kind).toBe("loaded");
    const otherRoomLoad = await loadSponsorGroup(story.crypto, {
      roomId: otherRoom,
      groupInfo,
      ratchetTree: before,
    });
    expect(otherRoomLoad.kind === "failed" && otherRoomLoad.code).toBe("mls_wrong_group");
  });

  test("a snapshot reads back to the same view, which goes on checking commits", async () => {
    const story = await storyOfThree();
    await story.proposeLeave("carol");
    const snapshot = encodeSponsorGroup(sponsorOf(story));
    const decoded = await decodeSponsorGroup(story.crypto, snapshot, { roomId: testRoom });
    if (decoded.kind === "failed") throw new Error(decoded.detail);
    expect(encodeSponsorGroup(decoded.group)).toEqual(snapshot);
    const pending = await story.prepare("alice", {});
    const checked = await checkCommit(decoded.group, pending.commit, {
      nowMs: story.nowMs,
      groupInfo: pending.groupInfo,
    });
    if (checked.kind === "failed") throw new Error(checked.detail);
    expect(checked.change.removed.map((member) => member.user)).toEqual(["carol@example.org"]);
    const corrupt = await decodeSponsorGroup(story.crypto, flip(snapshot, -10), {
      roomId: testRoom,
    });
    expect(corrupt.kind).toBe("failed");
  });
});
