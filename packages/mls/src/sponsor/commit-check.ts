import { equalBytes } from "@parley/protocol";
import type { Commit, FramedContent, ProposalWithSender, PublicMessage, RatchetTree } from "ts-mls";
import { type MlsFailure, mlsFailure } from "../errors.ts";
import { describeChange, type GroupChange } from "../group/change.ts";
import { checkCommitRules, resolveProposals } from "../group/rules.ts";
import { decodeWire, encodeTree } from "../group/wire.ts";
import { checkKeyPackage } from "../key-package/verify.ts";
import { failureFromLibrary, withLibraryFailures } from "../member/failure.ts";
import {
  addLeaf,
  applyMemberCommitProposals,
  mergeUpdatePath,
  nextEpochContext,
  pathRecipientNodes,
  removeLeaf,
  treeHash,
  validateCommitLeafNode,
  verifyContentSignature,
} from "../ts-mls-internals.ts";
import { offerGroupInfo, type SponsorGroup } from "./public-group.ts";

export type CommitCheck =
  | { readonly kind: "valid"; readonly change: GroupChange; readonly next: SponsorGroup }
  | MlsFailure;

/**
 * Everything a sponsor (not a member) can check about a commit before
 * ordering it, and the public view it leads to:
 *
 * 1. one PublicMessage commit of this room's group, for the current epoch
 *    (an older epoch is `mls_stale_epoch`: the committer processes the
 *    winner and retries);
 * 2. the content signature, against the committer's leaf in the tree the
 *    sponsor holds (or the joiner's new leaf for an external commit);
 * 3. Parley's rules (group/rules.ts): proposal kinds, an update path on
 *    every remove, no leaf changing devices, external commits only replacing
 *    the joiner's own leaf, proposals by reference known in this epoch;
 * 4. every added KeyPackage: signatures, credential proof, cipher suite and
 *    lifetime against the sponsor's clock (`nowMs`);
 * 5. ts-mls's own proposal validation and tree changes, the committer's new
 *    leaf node (signature, credential), that the update path encrypts to
 *    exactly the members it must reach, and that it fits the tree's parent
 *    hashes;
 * 6. the next group context (tree hash and transcript hash) from all that;
 *    the GroupInfo sent with the commit (required) and the tree (optional)
 *    must match it exactly. Requiring the GroupInfo means the sponsors can
 *    always serve the current epoch to a device that has to rejoin, even if
 *    no member can process the commit.
 *
 * It cannot check the membership tag, the confirmation tag, or that the
 * encrypted path secrets decrypt to what the new public keys claim: those
 * need the epoch's secrets. A member can therefore get a commit ordered that
 * other members cannot process; they recover by rejoining (docs/protocol.md, chapter 13).
 */
export async function checkCommit(
  group: SponsorGroup,
  bytes: Uint8Array,
  options: {
    readonly nowMs: number;
    readonly groupInfo: Uint8Array;
    readonly ratchetTree?: Uint8Array;
  },
): Promise<CommitCheck> {
  return withLibraryFailures("checking a commit", () =>
    checkCommitUnguarded(group, bytes, options),
  );
}

async function checkCommitUnguarded(
  group: SponsorGroup,
  bytes: Uint8Array,
  options: {
    readonly nowMs: number;
    readonly groupInfo: Uint8Array;
    readonly ratchetTree?: Uint8Array;
  },
): Promise<CommitCheck> {
  const decoded = decodeWire(bytes, "mls_public_message");
  if (decoded.kind === "failed") return decoded;
  const framing = checkFraming(group, decoded.value);
  if (framing.kind === "failed") return framing;
  const { content, commit, signatureKey, committerLeaf } = framing;
  const { cipherSuite } = group.crypto;
  const signed = await verifyContentSignature(
    signatureKey,
    content,
    decoded.value.auth,
    group.context,
    cipherSuite,
  );
  if (!signed) {
    return mlsFailure("mls_authentication_failed", "the commit's signature does not verify");
  }
  const resolved = resolveProposals(commit.proposals, group.proposals, committerLeaf);
  if (resolved.kind === "failed") return resolved;
  const broken = checkCommitRules(group.tree, content.sender, commit, resolved.proposals);
  if (broken !== undefined) return broken;
  const keyPackages = await checkAddedKeyPackages(group, resolved.proposals, options.nowMs);
  if (keyPackages !== undefined) return keyPackages;
  let newTree: RatchetTree;
  try {
    const applied = await applyCommit(group, commit, committerLeaf);
    if (applied.kind === "failed") return applied;
    newTree = applied.tree;
  } catch (thrown) {
    return failureFromLibrary(thrown, "applying the commit to the public tree");
  }
  const auth = decoded.value.auth;
  if (auth.contentType !== "commit") {
    return mlsFailure("mls_malformed", "a commit without a confirmation tag");
  }
  const context = await nextEpochContext(
    group.context,
    { ...content, contentType: "commit", commit },
    auth.signature,
    await treeHash(newTree, cipherSuite),
    group.confirmationTag,
    cipherSuite,
  );
  const next: SponsorGroup = {
    ...group,
    context,
    tree: newTree,
    confirmationTag: auth.confirmationTag,
    proposals: {},
    proposalMessages: [],
    groupInfo: undefined,
  };
  const change = describeChange(
    group.tree,
    newTree,
    content.sender,
    commit,
    resolved.proposals,
    context.epoch,
  );
  return attachPublished(next, change, options);
}

type Framing =
  | {
      readonly kind: "framed";
      readonly content: FramedContent;
      readonly commit: Commit;
      readonly signatureKey: Uint8Array;
      /** The committer's leaf before the commit; undefined for an external commit. */
      readonly committerLeaf: number | undefined;
    }
  | MlsFailure;

function checkFraming(group: SponsorGroup, message: PublicMessage): Framing {
  const { content } = message;
  if (!equalBytes(content.groupId, group.context.groupId)) {
    return mlsFailure("mls_wrong_group", "the commit is for another group");
  }
  if (content.epoch < group.context.epoch) {
    return mlsFailure(
      "mls_stale_epoch",
      `epoch ${content.epoch} is decided; the group is at ${group.context.epoch}`,
    );
  }
  if (content.epoch > group.context.epoch) {
    return mlsFailure(
      "mls_epoch_in_future",
      `epoch ${content.epoch}, the group is at ${group.context.epoch}`,
    );
  }
  if (content.contentType !== "commit") return mlsFailure("mls_rule_violation", "not a commit");
  const { commit, sender } = content;
  if (sender.senderType === "new_member_commit") {
    if (commit.path === undefined) {
      return mlsFailure("mls_rule_violation", "an external commit needs a path");
    }
    return {
      kind: "framed",
      content,
      commit,
      signatureKey: commit.path.leafNode.signaturePublicKey,
      committerLeaf: undefined,
    };
  }
  if (sender.senderType !== "member") {
    return mlsFailure("mls_rule_violation", "only members and joiners commit");
  }
  const leaf = group.tree[sender.leafIndex * 2];
  if (leaf?.nodeType !== "leaf") {
    return mlsFailure("mls_rule_violation", "the committer's leaf is empty");
  }
  return {
    kind: "framed",
    content,
    commit,
    signatureKey: leaf.leaf.signaturePublicKey,
    committerLeaf: sender.leafIndex,
  };
}

async function checkAddedKeyPackages(
  group: SponsorGroup,
  proposals: readonly ProposalWithSender[],
  nowMs: number,
): Promise<MlsFailure | undefined> {
  for (const { proposal } of proposals) {
    if (proposal.proposalType !== "add") continue;
    const checked = await checkKeyPackage(group.crypto, proposal.add.keyPackage, nowMs);
    if (checked.kind === "failed") return checked;
  }
  return undefined;
}

async function applyCommit(
  group: SponsorGroup,
  commit: Commit,
  committerLeaf: number | undefined,
): Promise<{ readonly kind: "applied"; readonly tree: RatchetTree } | MlsFailure> {
  const { crypto, context } = group;
  const { cipherSuite, clientConfig } = crypto;
  let tree: RatchetTree;
  let leaf: number;
  let added: readonly number[] = [];
  if (committerLeaf === undefined) {
    // External commit: the joiner's old leaf (if any) goes, its new one comes.
    const removed = commit.proposals.flatMap((item) =>
      item.proposalOrRefType === "proposal" && item.proposal.proposalType === "remove"
        ? [item.proposal.remove.removed]
        : [],
    );
    const path = commit.path;
    if (path === undefined) {
      return mlsFailure("mls_rule_violation", "an external commit needs a path");
    }
    [tree, leaf] = addLeaf(removed.reduce(removeLeaf, group.tree), path.leafNode);
  } else {
    const applied = await applyMemberCommitProposals(
      group,
      commit.proposals,
      committerLeaf,
      clientConfig,
      cipherSuite,
    );
    if (applied.needsPath && commit.path === undefined) {
      return mlsFailure("mls_rule_violation", "the commit needs an update path");
    }
    tree = applied.tree;
    leaf = committerLeaf;
    added = applied.addedLeaves;
  }
  const path = commit.path;
  if (path === undefined) return { kind: "applied", tree };
  const leafError = await validateCommitLeafNode(
    path.leafNode,
    leaf,
    context,
    tree,
    clientConfig,
    cipherSuite,
  );
  if (leafError !== undefined) {
    return failureFromLibrary(leafError, "checking the committer's leaf");
  }
  const expected = pathRecipientNodes(tree, leaf, added).map((nodes) => nodes.length);
  const counts = path.nodes.map((node) => node.encryptedPathSecret.length);
  if (
    expected.length !== counts.length ||
    expected.some((count, index) => counts[index] !== count)
  ) {
    return mlsFailure(
      "mls_rule_violation",
      "the update path does not encrypt to every member it must reach",
    );
  }
  return {
    kind: "applied",
    tree: await mergeUpdatePath(tree, leaf, path, cipherSuite, committerLeaf === undefined),
  };
}

async function attachPublished(
  next: SponsorGroup,
  change: GroupChange,
  published: { readonly groupInfo: Uint8Array; readonly ratchetTree?: Uint8Array },
): Promise<CommitCheck> {
  if (
    published.ratchetTree !== undefined &&
    !equalBytes(published.ratchetTree, encodeTree(next.tree))
  ) {
    return mlsFailure(
      "mls_rule_violation",
      "the tree sent with the commit is not the tree it leads to",
    );
  }
  const offered = await offerGroupInfo(next, published.groupInfo);
  if (offered.kind === "failed") {
    return mlsFailure(
      offered.code,
      `the GroupInfo sent with the commit: ${offered.detail}`,
      offered.cause,
    );
  }
  return { kind: "valid", change, next: offered.next };
}
