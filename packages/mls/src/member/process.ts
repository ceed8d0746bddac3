import { equalBytes } from "@parley/protocol";
import {
  acceptAll,
  emptyPskIndex,
  type PrivateMessage,
  type PublicMessage,
  processMessage as processWithTsMls,
  type SecretTree,
} from "ts-mls";
import { type MlsFailure, mlsFailure } from "../errors.ts";
import { describeChange, type GroupChange } from "../group/change.ts";
import { type GroupMember, memberAtLeaf } from "../group/roster.ts";
import { checkCommitRules, checkProposalRules, resolveProposals } from "../group/rules.ts";
import { decodeMessage } from "../group/wire.ts";
import { privateMessageSenderLeaf } from "../ts-mls-internals.ts";
import { failureFromLibrary } from "./failure.ts";
import { epochOf, isActive, type MlsMember, ownLeafIndex, withState } from "./member.ts";

/** A standalone proposal, recorded until a commit of this epoch applies it. */
export interface ProposalSummary {
  readonly proposer: GroupMember;
  readonly removed: GroupMember;
}

/**
 * What processing one message did. On a failure the member is unchanged:
 * keep using the value you had. A failure of an ordered commit is
 * `mls_commit_unprocessable`: this member cannot follow the group any more
 * and must rejoin (`prepareRejoin`).
 */
export type ProcessOutcome =
  | {
      readonly kind: "application";
      readonly member: MlsMember;
      readonly plaintext: Uint8Array;
      readonly sender: GroupMember;
      readonly epoch: bigint;
      readonly authenticatedData: Uint8Array;
    }
  | { readonly kind: "commit"; readonly member: MlsMember; readonly change: GroupChange }
  | { readonly kind: "removed"; readonly member: MlsMember; readonly change: GroupChange }
  | { readonly kind: "proposal"; readonly member: MlsMember; readonly proposal: ProposalSummary }
  | MlsFailure;

/**
 * Processes one message from the room: an application message
 * (PrivateMessage) from the message lane, or a proposal or commit
 * (PublicMessage) from the control lane, in the sponsors' order. A commit of
 * this member's own must be settled with `commitAccepted` instead.
 */
export async function processMessage(
  member: MlsMember,
  bytes: Uint8Array,
): Promise<ProcessOutcome> {
  try {
    return await processMessageUnguarded(member, bytes);
  } catch (thrown) {
    // The checks handle bad input themselves; this only keeps a bug in
    // this package or in ts-mls from escaping as a raw exception.
    return failureFromLibrary(thrown, "processing a message");
  }
}

async function processMessageUnguarded(
  member: MlsMember,
  bytes: Uint8Array,
): Promise<ProcessOutcome> {
  const decoded = decodeMessage(bytes);
  if (decoded.kind === "failed") return decoded;
  const message = decoded.value;
  // A removed device keeps the keys of the epochs it was in, so messages sent
  // before its removal still decrypt; nothing after it does.
  const removed = !isActive(member);
  if (message.wireformat === "mls_private_message") {
    if (removed && message.privateMessage.epoch > epochOf(member)) return notMember();
    return processApplication(member, message.privateMessage);
  }
  if (removed) return notMember();
  if (message.wireformat === "mls_public_message") {
    return processHandshake(member, message.publicMessage);
  }
  return mlsFailure("mls_malformed", `a ${message.wireformat} is not a group message`);
}

function notMember(): MlsFailure {
  return mlsFailure("mls_not_member", "this device was removed from the group");
}

async function processApplication(
  member: MlsMember,
  message: PrivateMessage,
): Promise<ProcessOutcome> {
  const { state, crypto } = member;
  if (!equalBytes(message.groupId, state.groupContext.groupId)) {
    return mlsFailure("mls_wrong_group", "the message is for another group");
  }
  if (message.contentType !== "application") {
    return mlsFailure("mls_rule_violation", "handshake messages travel as PublicMessage");
  }
  const current = epochOf(member);
  if (message.epoch > current) {
    return mlsFailure("mls_epoch_in_future", `epoch ${message.epoch}, member at ${current}`);
  }
  const epochData =
    message.epoch === current
      ? {
          senderDataSecret: state.keySchedule.senderDataSecret,
          ratchetTree: state.ratchetTree,
          secretTree: state.secretTree,
        }
      : state.historicalReceiverData.get(message.epoch);
  if (epochData === undefined) {
    return mlsFailure(
      "mls_epoch_too_old",
      `epoch ${message.epoch} is more than ${crypto.pastEpochWindow} epochs before ${current}`,
    );
  }
  try {
    const result = await processWithTsMls(
      { wireformat: "mls_private_message", privateMessage: message },
      state,
      emptyPskIndex,
      acceptAll,
      crypto.cipherSuite,
    );
    if (result.kind !== "applicationMessage") {
      return mlsFailure("mls_internal", "an application message processed as a handshake");
    }
    const after =
      message.epoch === current
        ? result.newState.secretTree
        : result.newState.historicalReceiverData.get(message.epoch)?.secretTree;
    const leaf =
      advancedLeaf(epochData.secretTree, after) ??
      (await privateMessageSenderLeaf(message, epochData.senderDataSecret, crypto.cipherSuite));
    const sender = leaf === undefined ? undefined : memberAtLeaf(epochData.ratchetTree, leaf);
    if (sender === undefined) return mlsFailure("mls_internal", "a verified sender has no leaf");
    return {
      kind: "application",
      member: withState(member, result.newState),
      plaintext: result.message,
      sender,
      epoch: message.epoch,
      authenticatedData: message.authenticatedData,
    };
  } catch (thrown) {
    return failureFromLibrary(thrown, "decrypting an application message");
  }
}

/**
 * The sender of a message just decrypted: ts-mls checks it but does not
 * return it. Decrypting advances exactly the sender's ratchet, and ts-mls
 * replaces only that node of the (immutable) secret tree, so the one node
 * that changed names the sender. If that ever stops holding, the caller
 * falls back to decrypting the sender data a second time.
 */
function advancedLeaf(before: SecretTree, after: SecretTree | undefined): number | undefined {
  if (after === undefined || after.length !== before.length) return undefined;
  let changed: number | undefined;
  for (let nodeIndex = 0; nodeIndex < before.length; nodeIndex += 2) {
    if (before[nodeIndex] === after[nodeIndex]) continue;
    if (changed !== undefined) return undefined;
    changed = nodeIndex / 2;
  }
  return changed;
}

async function processHandshake(
  member: MlsMember,
  message: PublicMessage,
): Promise<ProcessOutcome> {
  const { content } = message;
  if (!equalBytes(content.groupId, member.state.groupContext.groupId)) {
    return mlsFailure("mls_wrong_group", "the message is for another group");
  }
  const current = epochOf(member);
  if (content.epoch < current) {
    return mlsFailure(
      "mls_epoch_too_old",
      `a handshake of epoch ${content.epoch}, member at ${current}`,
    );
  }
  if (content.epoch > current) {
    return mlsFailure("mls_epoch_in_future", `epoch ${content.epoch}, member at ${current}`);
  }
  if (content.contentType === "proposal") return processProposal(member, message);
  if (content.contentType !== "commit") {
    return mlsFailure("mls_malformed", "an application message in the clear");
  }
  if (content.sender.senderType === "member" && content.sender.leafIndex === ownLeafIndex(member)) {
    return mlsFailure("mls_own_commit", "settle your own commit with commitAccepted");
  }
  const outcome = await processCommit(member, message);
  if (outcome.kind !== "failed") return outcome;
  return mlsFailure(
    "mls_commit_unprocessable",
    `${outcome.code}: ${outcome.detail}`,
    outcome.cause ?? outcome,
  );
}

async function processProposal(member: MlsMember, message: PublicMessage): Promise<ProcessOutcome> {
  const { content } = message;
  if (content.contentType !== "proposal") return mlsFailure("mls_internal", "not a proposal");
  const tree = member.state.ratchetTree;
  const broken = checkProposalRules(tree, content.sender, content.proposal);
  if (broken !== undefined) return broken;
  try {
    const result = await processWithTsMls(
      { wireformat: "mls_public_message", publicMessage: message },
      member.state,
      emptyPskIndex,
      acceptAll,
      member.crypto.cipherSuite,
    );
    const proposer =
      content.sender.senderType === "member"
        ? memberAtLeaf(tree, content.sender.leafIndex)
        : undefined;
    const removed =
      content.proposal.proposalType === "remove"
        ? memberAtLeaf(tree, content.proposal.remove.removed)
        : undefined;
    if (proposer === undefined || removed === undefined) {
      return mlsFailure("mls_internal", "checked leaves vanished");
    }
    return {
      kind: "proposal",
      member: withState(member, result.newState),
      proposal: { proposer, removed },
    };
  } catch (thrown) {
    return failureFromLibrary(thrown, "processing a proposal");
  }
}

async function processCommit(member: MlsMember, message: PublicMessage): Promise<ProcessOutcome> {
  const { content } = message;
  if (content.contentType !== "commit") return mlsFailure("mls_internal", "not a commit");
  const treeBefore = member.state.ratchetTree;
  const committerLeaf =
    content.sender.senderType === "member" ? content.sender.leafIndex : undefined;
  const resolved = resolveProposals(
    content.commit.proposals,
    member.state.unappliedProposals,
    committerLeaf,
  );
  if (resolved.kind === "failed") return resolved;
  const { proposals } = resolved;
  const broken = checkCommitRules(treeBefore, content.sender, content.commit, proposals);
  if (broken !== undefined) return broken;
  try {
    const result = await processWithTsMls(
      { wireformat: "mls_public_message", publicMessage: message },
      member.state,
      emptyPskIndex,
      acceptAll,
      member.crypto.cipherSuite,
    );
    const next = withState(member, result.newState);
    const change = describeChange(
      treeBefore,
      result.newState.ratchetTree,
      content.sender,
      content.commit,
      proposals,
      content.epoch + 1n,
    );
    return { kind: isActive(next) ? "commit" : "removed", member: next, change };
  } catch (thrown) {
    return failureFromLibrary(thrown, "processing a commit");
  }
}
