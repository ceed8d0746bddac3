import type { Commit, LeafNode, Proposal, ProposalWithSender, RatchetTree } from "ts-mls";
import { describe, expect, test } from "vitest";
import { GroupStory } from "../../test/story.ts";
import { checkCommitRules, checkProposalRules } from "./rules.ts";

/** Alice (leaf 0) and Bob (leaf 1) in a group, and their leaf nodes to build commits from. */
async function aliceAndBob(): Promise<{ tree: RatchetTree; alice: LeafNode; bob: LeafNode }> {
  const story = await GroupStory.createdBy("alice");
  await story.add("alice", "bob");
  const tree = story.member("alice").state.ratchetTree;
  const leaf = (nodeIndex: number) => {
    const node = tree[nodeIndex];
    if (node?.nodeType !== "leaf") throw new Error("no leaf");
    return node.leaf;
  };
  return { tree, alice: leaf(0), bob: leaf(2) };
}

const pathOf = (leafNode: LeafNode) => ({ leafNode, nodes: [] }) as unknown as Commit["path"];
const byValue = (proposals: Proposal[], sender?: number): ProposalWithSender[] =>
  proposals.map((proposal) => ({ proposal, senderLeafIndex: sender }));
const member = (leafIndex: number) => ({ senderType: "member", leafIndex }) as const;
const joiner = { senderType: "new_member_commit" } as const;
const externalInit: Proposal = {
  proposalType: "external_init",
  externalInit: { kemOutput: new Uint8Array(32) },
};

describe("Parley's commit rules", () => {
  test("member commits carry adds and removes only", async () => {
    const { tree, alice } = await aliceAndBob();
    const commit = { proposals: [], path: pathOf(alice) };
    for (const proposal of [
      { proposalType: "update", update: { leafNode: alice } },
      {
        proposalType: "psk",
        psk: {
          preSharedKeyId: {
            psktype: "external",
            pskId: new Uint8Array(),
            pskNonce: new Uint8Array(),
          },
        },
      },
      { proposalType: "group_context_extensions", groupContextExtensions: { extensions: [] } },
      { proposalType: 0xf000, proposalData: new Uint8Array() },
    ] as Proposal[]) {
      expect(checkCommitRules(tree, member(0), commit, byValue([proposal], 0))?.code).toBe(
        "mls_rule_violation",
      );
    }
  });

  test("a removal needs an update path, and an empty leaf cannot be removed", async () => {
    const { tree, alice } = await aliceAndBob();
    const remove = byValue([{ proposalType: "remove", remove: { removed: 1 } }], 0);
    expect(
      checkCommitRules(tree, member(0), { proposals: [], path: undefined }, remove)?.detail,
    ).toMatch(/update path/);
    expect(
      checkCommitRules(tree, member(0), { proposals: [], path: pathOf(alice) }, remove),
    ).toBeUndefined();
    const blank = byValue([{ proposalType: "remove", remove: { removed: 5 } }], 0);
    expect(
      checkCommitRules(tree, member(0), { proposals: [], path: pathOf(alice) }, blank)?.code,
    ).toBe("mls_rule_violation");
  });

  test("a committer's new leaf keeps its device", async () => {
    const { tree, bob } = await aliceAndBob();
    const verdict = checkCommitRules(tree, member(0), { proposals: [], path: pathOf(bob) }, []);
    expect(verdict?.detail).toMatch(/device/);
  });

  test("an external commit may only replace the joiner's own leaf", async () => {
    const { tree, alice, bob } = await aliceAndBob();
    const rejoin = byValue([externalInit, { proposalType: "remove", remove: { removed: 1 } }]);
    // Bob rejoining replaces leaf 1 (his): allowed.
    expect(
      checkCommitRules(tree, joiner, { proposals: [], path: pathOf(bob) }, rejoin),
    ).toBeUndefined();
    // Alice's device removing Bob's leaf: refused.
    expect(
      checkCommitRules(tree, joiner, { proposals: [], path: pathOf(alice) }, rejoin)?.detail,
    ).toMatch(/old leaf/);
    // Bob joining again without replacing his leaf: refused (a device holds one leaf).
    const plain = byValue([externalInit]);
    expect(
      checkCommitRules(tree, joiner, { proposals: [], path: pathOf(bob) }, plain)?.detail,
    ).toMatch(/already has a leaf/);
    // Two ExternalInit proposals, or an add: refused.
    expect(
      checkCommitRules(
        tree,
        joiner,
        { proposals: [], path: pathOf(bob) },
        byValue([externalInit, externalInit]),
      )?.code,
    ).toBe("mls_rule_violation");
  });

  test("standalone proposals are removes by members", async () => {
    const { tree, alice } = await aliceAndBob();
    expect(
      checkProposalRules(tree, member(1), { proposalType: "remove", remove: { removed: 1 } }),
    ).toBeUndefined();
    expect(
      checkProposalRules(tree, member(1), {
        proposalType: "update",
        update: { leafNode: alice },
      } as Proposal)?.code,
    ).toBe("mls_rule_violation");
    expect(
      checkProposalRules(
        tree,
        { senderType: "external", senderIndex: 0 },
        { proposalType: "remove", remove: { removed: 1 } },
      )?.code,
    ).toBe("mls_rule_violation");
  });
});
