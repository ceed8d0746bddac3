import { ParleyError } from "@parley/protocol";
import type { Commit, ProposalWithSender, RatchetTree, Sender } from "ts-mls";
import { credentialOf } from "../credential/identity.ts";
import { type GroupMember, memberAtLeaf, membersOf } from "./roster.ts";

/**
 * What a commit changed, in Parley terms: who committed, which devices it
 * added and removed. Members get it when they process a commit, sponsors
 * when they check one, so the federation layer can compare it with the room
 * state change the commit claims to carry (no hidden adds).
 */
export interface GroupChange {
  /** The epoch the commit starts. */
  readonly epoch: bigint;
  /** The committer, at its leaf after the commit (a joiner's new leaf for an external commit). */
  readonly committer: GroupMember;
  readonly externalJoin: boolean;
  /** Devices added, at their leaves after the commit. */
  readonly added: readonly GroupMember[];
  /** Devices removed, at the leaves they had before (a rejoining device's old leaf included). */
  readonly removed: readonly GroupMember[];
  /** Whether the committer replaced its leaf and direct path (an update path). */
  readonly updatePath: boolean;
}

/**
 * Describes a commit from the trees before and after it. The trees have
 * passed ts-mls's checks, so every leaf named here has a Parley credential;
 * a leaf that does not resolve is a bug and throws.
 */
export function describeChange(
  treeBefore: RatchetTree,
  treeAfter: RatchetTree,
  sender: Sender,
  commit: Commit,
  proposals: readonly ProposalWithSender[],
  epoch: bigint,
): GroupChange {
  const removed = proposals.flatMap(({ proposal }) =>
    proposal.proposalType === "remove"
      ? [required(memberAtLeaf(treeBefore, proposal.remove.removed))]
      : [],
  );
  const after = membersOf(treeAfter);
  const atDevice = (device: string | undefined) =>
    required(after.find((member) => member.device === device));
  const added = proposals.flatMap(({ proposal }) =>
    proposal.proposalType === "add"
      ? [atDevice(credentialOf(proposal.add.keyPackage.leafNode.credential)?.device)]
      : [],
  );
  const externalJoin = sender.senderType === "new_member_commit";
  const committer =
    sender.senderType === "member"
      ? required(memberAtLeaf(treeAfter, sender.leafIndex))
      : atDevice(
          commit.path === undefined
            ? undefined
            : credentialOf(commit.path.leafNode.credential)?.device,
        );
  return { epoch, committer, externalJoin, added, removed, updatePath: commit.path !== undefined };
}

function required(member: GroupMember | undefined): GroupMember {
  if (member === undefined) {
    throw new ParleyError("internal", "a leaf of a checked tree has no Parley credential");
  }
  return member;
}
