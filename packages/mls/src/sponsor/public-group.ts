import { equalBytes, type RoomId } from "@parley/protocol";
import {
  bytesToBase64,
  type GroupContext,
  type GroupInfo,
  type ProposalWithSender,
  type RatchetTree,
} from "ts-mls";
import { type MlsCrypto, parleyCipherSuiteName } from "../crypto/mls-crypto.ts";
import { type MlsFailure, mlsFailure } from "../errors.ts";
import { groupIdParts } from "../group/group-id.ts";
import { type GroupMember, memberAtLeaf, membersOf } from "../group/roster.ts";
import { checkProposalRules } from "../group/rules.ts";
import { decodeTree, decodeWire, encodeTree } from "../group/wire.ts";
import { mlsLimits } from "../limits.ts";
import { withLibraryFailures } from "../member/failure.ts";
import type { ProposalSummary } from "../member/process.ts";
import {
  encodeContext,
  publicProposalReference,
  validateRatchetTree,
  verifyContentSignature,
  verifyGroupInfo,
} from "../ts-mls-internals.ts";

/**
 * A sponsor's public view of a room's MLS group: what a server that is not a
 * member holds to check handshake messages before ordering them and to serve
 * external joins. Public data only: no secret of the group is here.
 * Immutable; every check returns the view to adopt if the checked message is
 * ordered (`next`), and the sponsor adopts it when it applies that entry.
 */
export interface SponsorGroup {
  readonly crypto: MlsCrypto;
  readonly roomId: RoomId;
  /** The current epoch's group context, computed by the sponsor from the commits it applied. */
  readonly context: GroupContext;
  readonly tree: RatchetTree;
  /**
   * The confirmation tag of the current epoch, as the last commit (or
   * GroupInfo) carried it. Needed for the next transcript hash; a sponsor
   * cannot check it (it takes the epoch's secrets).
   */
  readonly confirmationTag: Uint8Array;
  /** Proposals ordered in this epoch, keyed as ts-mls keys them (base64 ProposalRef). */
  readonly proposals: Readonly<Record<string, ProposalWithSender>>;
  /** The ordered proposal messages themselves, for snapshots. */
  readonly proposalMessages: readonly Uint8Array[];
  /**
   * A member-signed GroupInfo of the current epoch with `external_pub`, if
   * one was offered and matched; what `externalJoinMaterial` serves.
   */
  readonly groupInfo: Uint8Array | undefined;
}

export type SponsorLoad = { readonly kind: "loaded"; readonly group: SponsorGroup } | MlsFailure;

/**
 * Starts a public view from a GroupInfo and ratchet tree (at room creation,
 * or when a sponsor joins a room later): checks the GroupInfo's signature by
 * its signer's leaf and the whole tree (leaf signatures, Parley credentials,
 * parent hashes) against the GroupInfo's tree hash.
 */
export async function loadSponsorGroup(
  crypto: MlsCrypto,
  options: {
    readonly roomId: RoomId;
    readonly groupInfo: Uint8Array;
    readonly ratchetTree: Uint8Array;
  },
): Promise<SponsorLoad> {
  return withLibraryFailures("loading a GroupInfo and tree", () =>
    loadSponsorGroupUnguarded(crypto, options),
  );
}

async function loadSponsorGroupUnguarded(
  crypto: MlsCrypto,
  options: {
    readonly roomId: RoomId;
    readonly groupInfo: Uint8Array;
    readonly ratchetTree: Uint8Array;
  },
): Promise<SponsorLoad> {
  const decoded = decodeWire(options.groupInfo, "mls_group_info");
  if (decoded.kind === "failed") return decoded;
  const groupInfo = decoded.value;
  const context = groupInfo.groupContext;
  if (groupIdParts(context.groupId)?.roomId !== options.roomId) {
    return mlsFailure("mls_wrong_group", "the GroupInfo is for another room's group");
  }
  if (context.cipherSuite !== parleyCipherSuiteName) {
    return mlsFailure("mls_rule_violation", "not Parley's cipher suite");
  }
  const tree = decodeTree(options.ratchetTree);
  if (tree.kind === "failed") return tree;
  try {
    const treeError = await validateRatchetTree(
      tree.value,
      context,
      crypto.clientConfig,
      crypto.cipherSuite,
    );
    if (treeError !== undefined) {
      return mlsFailure(
        "mls_rule_violation",
        `the tree does not check: ${treeError.message}`,
        treeError,
      );
    }
  } catch (cause) {
    return mlsFailure("mls_rule_violation", "the tree does not check", cause);
  }
  const signed = await checkGroupInfoSignature(crypto, tree.value, groupInfo);
  if (signed !== undefined) return signed;
  return {
    kind: "loaded",
    group: {
      crypto,
      roomId: options.roomId,
      context,
      tree: tree.value,
      confirmationTag: groupInfo.confirmationTag,
      proposals: {},
      proposalMessages: [],
      groupInfo: hasExternalPub(groupInfo) ? Uint8Array.from(options.groupInfo) : undefined,
    },
  };
}

export function sponsorEpoch(group: SponsorGroup): bigint {
  return group.context.epoch;
}

/** Every device in the public tree, in leaf order (what a room's sponsors compare with room state). */
export function sponsorMembers(group: SponsorGroup): readonly GroupMember[] {
  return membersOf(group.tree);
}

/** What a device needs to join by external commit, if a member has published it for this epoch. */
export function externalJoinMaterial(
  group: SponsorGroup,
): { readonly groupInfo: Uint8Array; readonly ratchetTree: Uint8Array } | undefined {
  if (group.groupInfo === undefined) return undefined;
  return { groupInfo: group.groupInfo, ratchetTree: encodeTree(group.tree) };
}

export type GroupInfoCheck =
  | { readonly kind: "accepted"; readonly next: SponsorGroup }
  | MlsFailure;

/**
 * Accepts a GroupInfo a member publishes for the current epoch when its group
 * context is exactly the one the sponsor computed, its confirmation tag the
 * current epoch's, its signer a current leaf whose signature verifies, and it
 * carries `external_pub`. Whether `external_pub` really derives from the
 * epoch's secret cannot be checked without the secret.
 */
export async function offerGroupInfo(
  group: SponsorGroup,
  bytes: Uint8Array,
): Promise<GroupInfoCheck> {
  return withLibraryFailures("checking a GroupInfo", () => offerGroupInfoUnguarded(group, bytes));
}

async function offerGroupInfoUnguarded(
  group: SponsorGroup,
  bytes: Uint8Array,
): Promise<GroupInfoCheck> {
  const decoded = decodeWire(bytes, "mls_group_info");
  if (decoded.kind === "failed") return decoded;
  const groupInfo = decoded.value;
  if (!equalBytes(groupInfo.groupContext.groupId, group.context.groupId)) {
    return mlsFailure("mls_wrong_group", "the GroupInfo is for another group");
  }
  if (groupInfo.groupContext.epoch !== group.context.epoch) {
    return mlsFailure("mls_stale_epoch", `a GroupInfo of epoch ${groupInfo.groupContext.epoch}`);
  }
  if (!equalBytes(encodeContext(groupInfo.groupContext), encodeContext(group.context))) {
    return mlsFailure(
      "mls_rule_violation",
      "the GroupInfo's context is not the one the sponsor computed",
    );
  }
  if (!equalBytes(groupInfo.confirmationTag, group.confirmationTag)) {
    return mlsFailure("mls_rule_violation", "the GroupInfo's confirmation tag is not the epoch's");
  }
  if (!hasExternalPub(groupInfo)) {
    return mlsFailure("mls_rule_violation", "no external_pub extension");
  }
  try {
    await group.crypto.cipherSuite.hpke.importPublicKey(externalPubOf(groupInfo));
  } catch (cause) {
    return mlsFailure("mls_rule_violation", "external_pub is not a public key", cause);
  }
  const signed = await checkGroupInfoSignature(group.crypto, group.tree, groupInfo);
  if (signed !== undefined) return signed;
  return { kind: "accepted", next: { ...group, groupInfo: Uint8Array.from(bytes) } };
}

export type ProposalCheck =
  | { readonly kind: "valid"; readonly proposal: ProposalSummary; readonly next: SponsorGroup }
  | MlsFailure;

/**
 * Checks a standalone proposal (PublicMessage) for the current epoch: the
 * sender's signature against its leaf, and Parley's rules (a Remove by a
 * member). The membership tag cannot be checked by a non-member.
 */
export async function checkProposal(
  group: SponsorGroup,
  bytes: Uint8Array,
): Promise<ProposalCheck> {
  return withLibraryFailures("checking a proposal", () => checkProposalUnguarded(group, bytes));
}

async function checkProposalUnguarded(
  group: SponsorGroup,
  bytes: Uint8Array,
): Promise<ProposalCheck> {
  const decoded = decodeWire(bytes, "mls_public_message");
  if (decoded.kind === "failed") return decoded;
  const message = decoded.value;
  const { content } = message;
  if (!equalBytes(content.groupId, group.context.groupId)) {
    return mlsFailure("mls_wrong_group", "the proposal is for another group");
  }
  if (content.epoch !== group.context.epoch) {
    return mlsFailure(
      content.epoch < group.context.epoch ? "mls_stale_epoch" : "mls_epoch_in_future",
      `epoch ${content.epoch}`,
    );
  }
  if (content.contentType !== "proposal") return mlsFailure("mls_rule_violation", "not a proposal");
  const broken = checkProposalRules(group.tree, content.sender, content.proposal);
  if (broken !== undefined) return broken;
  if (group.proposalMessages.length >= mlsLimits.pendingProposalsMax) {
    return mlsFailure("mls_rule_violation", "too many proposals in this epoch");
  }
  const senderLeaf = content.sender.senderType === "member" ? content.sender.leafIndex : -1;
  const proposer = memberAtLeaf(group.tree, senderLeaf);
  const signer = group.tree[senderLeaf * 2];
  if (proposer === undefined || signer?.nodeType !== "leaf") {
    return mlsFailure("mls_rule_violation", "unknown sender");
  }
  const { cipherSuite } = group.crypto;
  const valid = await verifyContentSignature(
    signer.leaf.signaturePublicKey,
    content,
    message.auth,
    group.context,
    cipherSuite,
  );
  if (!valid) {
    return mlsFailure("mls_authentication_failed", "the proposal's signature does not verify");
  }
  const reference = bytesToBase64(await publicProposalReference(message, cipherSuite));
  const removed =
    content.proposal.proposalType === "remove"
      ? memberAtLeaf(group.tree, content.proposal.remove.removed)
      : undefined;
  if (removed === undefined) return mlsFailure("mls_internal", "a checked Remove names no member");
  return {
    kind: "valid",
    proposal: { proposer, removed },
    next: {
      ...group,
      proposals: {
        ...group.proposals,
        [reference]: { proposal: content.proposal, senderLeafIndex: senderLeaf },
      },
      proposalMessages: [...group.proposalMessages, Uint8Array.from(bytes)],
    },
  };
}

async function checkGroupInfoSignature(
  crypto: MlsCrypto,
  tree: RatchetTree,
  groupInfo: GroupInfo,
): Promise<MlsFailure | undefined> {
  const signer = tree[groupInfo.signer * 2];
  if (signer?.nodeType !== "leaf") {
    return mlsFailure("mls_rule_violation", "the GroupInfo's signer is not a member");
  }
  const valid = await verifyGroupInfo(
    groupInfo,
    signer.leaf.signaturePublicKey,
    crypto.cipherSuite,
  );
  return valid
    ? undefined
    : mlsFailure("mls_authentication_failed", "the GroupInfo's signature does not verify");
}

function hasExternalPub(groupInfo: GroupInfo): boolean {
  return groupInfo.extensions.some((extension) => extension.extensionType === "external_pub");
}

function externalPubOf(groupInfo: GroupInfo): Uint8Array {
  const extension = groupInfo.extensions.find(
    (candidate) => candidate.extensionType === "external_pub",
  );
  return extension?.extensionData ?? new Uint8Array();
}
