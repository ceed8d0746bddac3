import { decodeMlsMessage } from "ts-mls";
import { describe, expect, test } from "vitest";
import { checkCommitRules, resolveProposals } from "../../src/group/rules.ts";
import { decodeWire } from "../../src/group/wire.ts";
import { GroupStory } from "../story.ts";
import { commitHasUpdatePath } from "./commit-bytes.ts";

/** The path check twice: by reading the bytes ourselves, and by ts-mls's decoder. */
function expectUpdatePath(commit: Uint8Array): void {
  expect(commitHasUpdatePath(commit)).toBe(true);
  const decoded = decodeMlsMessage(commit, 0)?.[0];
  if (decoded?.wireformat !== "mls_public_message") throw new Error("not a PublicMessage");
  const { content } = decoded.publicMessage;
  expect(content.contentType === "commit" && content.commit.path !== undefined).toBe(true);
}

describe("every commit that removes a member carries an update path", () => {
  test.each([2, 3, 5, 8])("removing one member of %i", async (size) => {
    const names = ["bob", "carol", "dave", "erin", "frank", "grace", "heidi"].slice(0, size - 1);
    const story = await GroupStory.createdBy("alice");
    await story.add("alice", ...names);
    const removed = names.at(-1) ?? "";
    const pending = await story.remove("alice", removed);
    expectUpdatePath(pending.commit);
  });

  test("removing several members, and removing while adding", async () => {
    const story = await GroupStory.createdBy("alice");
    await story.add("alice", "bob", "carol", "dave", "erin");
    expectUpdatePath((await story.remove("bob", "carol", "erin")).commit);
    const pending = await story.commit("alice", {
      add: [await story.keyPackageOf("frank")],
      remove: [story.member("dave").self.device],
    });
    expectUpdatePath(pending.commit);
  });

  test("committing a member's request to leave (a Remove by reference)", async () => {
    const story = await GroupStory.createdBy("alice");
    await story.add("alice", "bob", "carol");
    await story.proposeLeave("carol");
    const pending = await story.commit("bob", {});
    expect(pending.change.removed.map((member) => member.user)).toEqual(["carol@example.org"]);
    expectUpdatePath(pending.commit);
  });

  test("removing a device that already asked to leave removes it once", async () => {
    const story = await GroupStory.createdBy("alice");
    await story.add("alice", "bob", "carol");
    await story.proposeLeave("carol");
    const pending = await story.remove("bob", "carol");
    expect(pending.change.removed.map((member) => member.user)).toEqual(["carol@example.org"]);
    expectUpdatePath(pending.commit);
  });

  test("the reader notices a commit without a path (adds alone need none)", async () => {
    const story = await GroupStory.createdBy("alice");
    const pending = await story.add("alice", "bob");
    expect(commitHasUpdatePath(pending.commit)).toBe(false);
  });

  test("members and sponsors refuse a remove commit whose path was taken out", async () => {
    const story = await GroupStory.createdBy("alice");
    await story.add("alice", "bob", "carol");
    const before = story.member("bob").state.ratchetTree;
    const pending = await story.prepare("alice", { remove: [story.member("carol").self.device] });
    const decoded = decodeWire(pending.commit, "mls_public_message");
    if (decoded.kind === "failed" || decoded.value.content.contentType !== "commit") {
      throw new Error("no commit");
    }
    const { content } = decoded.value;
    const withoutPath = { ...content.commit, path: undefined };
    const resolved = resolveProposals(withoutPath.proposals, {}, 0);
    if (resolved.kind === "failed") throw new Error(resolved.detail);
    const verdict = checkCommitRules(before, content.sender, withoutPath, resolved.proposals);
    expect(verdict?.code).toBe("mls_rule_violation");
    expect(verdict?.detail).toMatch(/update path/);
  });
});
