import {
  bytesToBase64,
  type Commit,
  type Proposal,
  type ProposalOrRef,
  type ProposalWithSender,
  type RatchetTree,
  type Sender,
} from "ts-mls";
import { credentialOf } from "../credential/identity.ts";
import { type MlsFailure, mlsFailure } from "../errors.ts";
import { mlsLimits } from "../limits.ts";
import { memberAtLeaf, membersOf } from "./roster.ts";

/**
 * Parley's rules for handshake messages, on top of RFC 9420's (which ts-mls
 * checks). Members and sponsors run the same functions, so a commit a
 * sponsor orders is one that honest members accept, and a member never
 * emits what sponsors refuse.
 *
 * - A member commit carries only Add and Remove proposals (by value), and
 *   Remove proposals by reference; no Update, PSK, ReInit, GroupContextExtensions
 *   or custom proposals. A member refreshes its own leaf with an empty commit.
 * - Every commit that removes anyone carries an update path, whatever the
 *   library would do: without one the removed member could derive the next
 *   epoch's secrets (the ts-mls 2.0.0-rc.10 bug). Sponsors can check this.
 * - A committer's new leaf (update path) keeps its device: a leaf never
 *   changes hands.
 * - An external commit has one ExternalInit and at most one Remove, which may
 *   only remove the joining device's own old leaf (a rejoin); a device never
 *   holds two leaves.
 * - At most `proposalsPerCommitMax` proposals, `membersMax` members after.
 * - A standalone proposal is a Remove by a member (for example a device
 *   asking to leave); it is committed by reference.
 */

/** The proposals a commit applies, resolved from values and references, or why not. */
export function resolveProposals(
  proposals: readonly ProposalOrRef[],
  pool: Readonly<Record<string, ProposalWithSender>>,
  committerLeaf: number | undefined,
): { readonly kind: "resolved"; readonly proposals: readonly ProposalWithSender[] } | MlsFailure {
  if (proposals.length > mlsLimits.proposalsPerCommitMax) {
    return mlsFailure(
      "mls_rule_violation",
      `more than ${mlsLimits.proposalsPerCommitMax} proposals`,
    );
  }
  const resolved: ProposalWithSender[] = [];
  for (const item of proposals) {
    if (item.proposalOrRefType === "proposal") {
      resolved.push({ proposal: item.proposal, senderLeafIndex: committerLeaf });
      continue;
    }
    const known = pool[bytesToBase64(item.reference)];
    if (known === undefined) {
      return mlsFailure(
        "mls_rule_violation",
        "a proposal reference is not a proposal of this epoch",
      );
    }
    if (known.proposal.proposalType !== "remove") {
      return mlsFailure("mls_rule_violation", "only Remove proposals are committed by reference");
    }
    resolved.push(known);
  }
  return { kind: "resolved", proposals: resolved };
}

/** Parley's rules for one commit, given the tree before it; undefined when it keeps them. */
export function checkCommitRules(
  treeBefore: RatchetTree,
  sender: Sender,
  commit: Commit,
  proposals: readonly ProposalWithSender[],
): MlsFailure | undefined {
  const removes = proposals.flatMap(({ proposal }) =>
    proposal.proposalType === "remove" ? [proposal.remove.removed] : [],
  );
  if (removes.length > 0 && commit.path === undefined) {
    return violation("a commit that removes members must carry an update path");
  }
  for (const removed of removes) {
    if (memberAtLeaf(treeBefore, removed) === undefined) return violation("removes an empty leaf");
  }
  if (sender.senderType === "new_member_commit") {
    return checkExternalCommit(treeBefore, commit, proposals);
  }
  if (sender.senderType !== "member") return violation("only members and joiners commit");
  const committer = memberAtLeaf(treeBefore, sender.leafIndex);
  if (committer === undefined) return violation("the committer's leaf is empty");
  for (const { proposal } of proposals) {
    if (!isMemberCommitProposal(proposal)) {
      return violation(`${proposalName(proposal)} proposals are not used by Parley`);
    }
  }
  if (
    commit.path !== undefined &&
    credentialOf(commit.path.leafNode.credential)?.device !== committer.device
  ) {
    return violation("the update path changes the committer's device");
  }
  return checkAdds(treeBefore, proposals, removes);
}

/** Parley's rules for a standalone proposal from a member. */
export function checkProposalRules(
  treeBefore: RatchetTree,
  sender: Sender,
  proposal: Proposal,
): MlsFailure | undefined {
  if (sender.senderType !== "member") return violation("only members send standalone proposals");
  if (memberAtLeaf(treeBefore, sender.leafIndex) === undefined) return violation("unknown sender");
  if (proposal.proposalType !== "remove") {
    return violation("a standalone proposal must be a Remove");
  }
  if (memberAtLeaf(treeBefore, proposal.remove.removed) === undefined) {
    return violation("removes an empty leaf");
  }
  return undefined;
}

function checkExternalCommit(
  treeBefore: RatchetTree,
  commit: Commit,
  proposals: readonly ProposalWithSender[],
): MlsFailure | undefined {
  const kinds = proposals.map(({ proposal }) => proposal.proposalType);
  const initCount = kinds.filter((kind) => kind === "external_init").length;
  const removeCount = kinds.filter((kind) => kind === "remove").length;
  if (initCount !== 1 || removeCount > 1 || initCount + removeCount !== kinds.length) {
    return violation("an external commit has one ExternalInit and at most one Remove");
  }
  if (commit.path === undefined) return violation("an external commit carries an update path");
  const joiner = credentialOf(commit.path.leafNode.credential);
  if (joiner === undefined) return violation("the joiner has no Parley credential");
  const removedLeaves = new Set<number>();
  for (const { proposal } of proposals) {
    if (proposal.proposalType !== "remove") continue;
    if (memberAtLeaf(treeBefore, proposal.remove.removed)?.device !== joiner.device) {
      return violation("an external commit may only remove the joining device's old leaf");
    }
    removedLeaves.add(proposal.remove.removed);
  }
  const stillThere = membersOf(treeBefore).some(
    (member) => member.device === joiner.device && !removedLeaves.has(member.leafIndex),
  );
  if (stillThere) return violation("the joining device already has a leaf; rejoin replaces it");
  if (membersOf(treeBefore).length - removedLeaves.size + 1 > mlsLimits.membersMax) {
    return violation(`more than ${mlsLimits.membersMax} members`);
  }
  return undefined;
}

function checkAdds(
  treeBefore: RatchetTree,
  proposals: readonly ProposalWithSender[],
  removes: readonly number[],
): MlsFailure | undefined {
  const removed = new Set(removes);
  const present = new Set(
    membersOf(treeBefore)
      .filter((member) => !removed.has(member.leafIndex))
      .map((member) => member.device),
  );
  const membersBefore = present.size;
  let added = 0;
  for (const { proposal } of proposals) {
    if (proposal.proposalType !== "add") continue;
    const device = credentialOf(proposal.add.keyPackage.leafNode.credential)?.device;
    if (device === undefined) return violation("an added KeyPackage has no Parley credential");
    if (present.has(device)) return violation("adds a device that is already a member");
    present.add(device);
    added += 1;
  }
  if (membersBefore + added > mlsLimits.membersMax) {
    return violation(`more than ${mlsLimits.membersMax} members`);
  }
  return undefined;
}

function isMemberCommitProposal(proposal: Proposal): boolean {
  return proposal.proposalType === "add" || proposal.proposalType === "remove";
}

function proposalName(proposal: Proposal): string {
  return typeof proposal.proposalType === "number"
    ? `custom (${proposal.proposalType})`
    : proposal.proposalType;
}

function violation(detail: string): MlsFailure {
  return mlsFailure("mls_rule_violation", detail);
}
