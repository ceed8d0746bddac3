/**
 * The one file that reaches into ts-mls's internal modules.
 *
 * Why: ts-mls 1.6.4's public API serves group members only. A sponsoring
 * server is not a member, yet it must check a commit before ordering it
 * (signature against the public ratchet tree, proposals, update path, the
 * resulting tree hash and group context), which OpenMLS calls `PublicGroup`
 * and mls-rs `ExternalGroup`. ts-mls has the pieces, unexported; its package
 * `exports` map ("./*.js") makes them importable. Members also need three
 * small things the public API lacks: the ratchet tree codec (joiners get the
 * tree beside the Welcome), the KeyPackageRef (to find which KeyPackage a
 * Welcome is for) and the sender of a decrypted application message.
 *
 * The cost: internal modules can change in any release. ts-mls is pinned to
 * exactly 1.6.4, `ts-mls-internals.test.ts` fails on any other version, and
 * the sponsor tests check that a sponsor reaches the members' tree hash and
 * group context for every kind of commit, so a silent change in these
 * functions fails loudly. ts-mls 2.x blocks internal imports; moving there
 * means replacing this file (ideally with an upstream public-group API).
 *
 * Nothing here adds cryptography: every function below is ts-mls's own.
 */
import type {
  CiphersuiteImpl,
  ClientConfig,
  ClientState,
  FramedContent,
  FramedContentAuthData,
  GroupContext,
  GroupInfo,
  KeyPackage,
  LeafNode,
  PrivateMessage,
  ProposalOrRef,
  ProposalWithSender,
  PublicMessage,
  RatchetTree,
  UpdatePath,
} from "ts-mls";
import { makeProposalRef } from "ts-mls/authenticatedContent.js";
import {
  applyProposals as applyProposalsInternal,
  nextEpochContext as nextEpochContextInternal,
  validateLeafNodeCredentialAndKeyUniqueness,
  validateLeafNodeUpdateOrCommit,
  validateRatchetTree as validateRatchetTreeInternal,
} from "ts-mls/clientState.js";
import { type FramedContentCommit, verifyFramedContentSignature } from "ts-mls/framedContent.js";
import { decodeGroupContext, encodeGroupContext } from "ts-mls/groupContext.js";
import { verifyGroupInfoSignature } from "ts-mls/groupInfo.js";
import { makeKeyPackageRef, verifyKeyPackage } from "ts-mls/keyPackage.js";
import { verifyLeafNodeSignatureKeyPackage } from "ts-mls/leafNode.js";
import { decryptSenderData } from "ts-mls/privateMessage.js";
import { emptyPskIndex } from "ts-mls/pskIndex.js";
import {
  addLeafNode,
  decodeRatchetTree as decodeRatchetTreeInternal,
  encodeRatchetTree as encodeRatchetTreeInternal,
  filteredDirectPathAndCopathResolution,
  removeLeafNode,
} from "ts-mls/ratchetTree.js";
import { treeHashRoot } from "ts-mls/treeHash.js";
import { leafToNodeIndex, nodeToLeafIndex, toLeafIndex } from "ts-mls/treemath.js";
import { applyUpdatePath } from "ts-mls/updatePath.js";

/** The ts-mls version these internals were read from; see the file comment. */
export const pinnedTsMlsVersion = "1.6.4";

export function encodeRatchetTree(tree: RatchetTree): Uint8Array {
  return encodeRatchetTreeInternal(tree);
}

/** The tree, or undefined unless `bytes` is exactly one encoded tree. Never throws. */
export function decodeRatchetTree(bytes: Uint8Array): RatchetTree | undefined {
  try {
    const decoded = decodeRatchetTreeInternal(bytes, 0);
    if (decoded === undefined || decoded[1] !== bytes.length) return undefined;
    return decoded[0];
  } catch {
    return undefined;
  }
}

export function encodeContext(context: GroupContext): Uint8Array {
  return encodeGroupContext(context);
}

export function decodeContext(bytes: Uint8Array): GroupContext | undefined {
  try {
    const decoded = decodeGroupContext(bytes, 0);
    if (decoded === undefined || decoded[1] !== bytes.length) return undefined;
    return decoded[0];
  } catch {
    return undefined;
  }
}

/** RFC 9420 §5.2: the hash that names a KeyPackage, as in Welcome.secrets[].new_member. */
export function keyPackageReference(
  keyPackage: KeyPackage,
  cipherSuite: CiphersuiteImpl,
): Promise<Uint8Array> {
  return makeKeyPackageRef(keyPackage, cipherSuite.hash);
}

/** Both signatures of a KeyPackage (the package's and its leaf node's). */
export async function verifyKeyPackageSignatures(
  keyPackage: KeyPackage,
  cipherSuite: CiphersuiteImpl,
): Promise<boolean> {
  return (
    (await verifyKeyPackage(keyPackage, cipherSuite.signature)) &&
    (await verifyLeafNodeSignatureKeyPackage(keyPackage.leafNode, cipherSuite.signature))
  );
}

/**
 * The sender's leaf index of a PrivateMessage: ts-mls checks it while
 * decrypting but does not return it, and a chat message needs its author.
 */
export async function privateMessageSenderLeaf(
  message: PrivateMessage,
  senderDataSecret: Uint8Array,
  cipherSuite: CiphersuiteImpl,
): Promise<number | undefined> {
  try {
    return (await decryptSenderData(message, senderDataSecret, cipherSuite))?.leafIndex;
  } catch {
    return undefined;
  }
}

/** RFC 9420 §6.1: the content signature of a PublicMessage. */
export function verifyContentSignature(
  signaturePublicKey: Uint8Array,
  content: FramedContent,
  auth: FramedContentAuthData,
  context: GroupContext,
  cipherSuite: CiphersuiteImpl,
): Promise<boolean> {
  return verifyFramedContentSignature(
    signaturePublicKey,
    "mls_public_message",
    content,
    auth,
    context,
    cipherSuite.signature,
  );
}

/** RFC 9420 §5.6.4 (MakeProposalRef) for a proposal sent as a PublicMessage. */
export function publicProposalReference(
  message: PublicMessage,
  cipherSuite: CiphersuiteImpl,
): Promise<Uint8Array> {
  return makeProposalRef(
    { wireformat: "mls_public_message", content: message.content, auth: message.auth },
    cipherSuite.hash,
  );
}

export function verifyGroupInfo(
  groupInfo: GroupInfo,
  signaturePublicKey: Uint8Array,
  cipherSuite: CiphersuiteImpl,
): Promise<boolean> {
  return verifyGroupInfoSignature(groupInfo, signaturePublicKey, cipherSuite.signature);
}

/**
 * RFC 9420 §12.4.3.1 checks of a received tree (leaf signatures and
 * credentials, key uniqueness, unmerged leaves, parent hashes) and that it
 * hashes to `context.treeHash`. Returns why not, or undefined when valid.
 */
export async function validateRatchetTree(
  tree: RatchetTree,
  context: GroupContext,
  config: ClientConfig,
  cipherSuite: CiphersuiteImpl,
): Promise<Error | undefined> {
  return validateRatchetTreeInternal(
    tree,
    context,
    config.lifetimeConfig,
    config.authService,
    context.treeHash,
    cipherSuite,
  );
}

/** The public part of a group that a non-member holds. */
export interface PublicGroupState {
  readonly context: GroupContext;
  readonly tree: RatchetTree;
  /** Proposals of this epoch, by reference (base64 of the ProposalRef), as ts-mls keys them. */
  readonly proposals: Readonly<Record<string, ProposalWithSender>>;
}

export interface AppliedProposals {
  readonly tree: RatchetTree;
  readonly proposals: readonly ProposalWithSender[];
  readonly addedLeaves: readonly number[];
  readonly needsPath: boolean;
}

/**
 * Runs ts-mls's own proposal validation and tree mutation (RFC 9420 §12.2,
 * §12.3) for a commit sent by a member, as a non-member. `applyProposals`
 * takes a member's ClientState but reads only the group context, tree,
 * proposal store and client config for a member commit without PSKs (Parley
 * refuses PSK, ReInit and external-init proposals in member commits before
 * calling this), plus the own leaf index, used only to tell the caller
 * whether it was removed. The cast below gives it exactly those fields.
 */
export async function applyMemberCommitProposals(
  group: PublicGroupState,
  proposals: readonly ProposalOrRef[],
  committerLeaf: number,
  config: ClientConfig,
  cipherSuite: CiphersuiteImpl,
): Promise<AppliedProposals> {
  const partialState = {
    groupContext: group.context,
    ratchetTree: group.tree,
    unappliedProposals: group.proposals,
    clientConfig: config,
    privatePath: { leafIndex: committerLeaf, privateKeys: {} },
  } as unknown as ClientState;
  const result = await applyProposalsInternal(
    partialState,
    [...proposals],
    toLeafIndex(committerLeaf),
    emptyPskIndex,
    false,
    cipherSuite,
  );
  const addedLeaves =
    result.additionalResult.kind === "memberCommit"
      ? result.additionalResult.addedLeafNodes.map(([leafIndex]) => Number(leafIndex))
      : [];
  return {
    tree: result.tree,
    proposals: result.allProposals,
    addedLeaves,
    needsPath: result.needsUpdatePath,
  };
}

/** Removes a leaf (blanking its direct path), as a Remove proposal does. */
export function removeLeaf(tree: RatchetTree, leafIndex: number): RatchetTree {
  return removeLeafNode(tree, toLeafIndex(leafIndex));
}

/** Adds a leaf in the leftmost blank slot (or extends the tree); returns the tree and its leaf index. */
export function addLeaf(tree: RatchetTree, leaf: LeafNode): [RatchetTree, number] {
  const [updated, nodeIndex] = addLeafNode(tree, leaf);
  return [updated, Number(nodeToLeafIndex(nodeIndex))];
}

/**
 * The committer's LeafNode checks (signature over group id and leaf index,
 * credential, capabilities) and key uniqueness in the tree it lands in.
 */
export async function validateCommitLeafNode(
  leaf: LeafNode,
  leafIndex: number,
  context: GroupContext,
  treeAfterProposals: RatchetTree,
  config: ClientConfig,
  cipherSuite: CiphersuiteImpl,
): Promise<Error | undefined> {
  if (leaf.leafNodeSource !== "commit") {
    return new Error("the update path leaf is not a commit leaf");
  }
  const leafError = await validateLeafNodeUpdateOrCommit(
    leaf,
    leafIndex,
    context,
    config.authService,
    cipherSuite.signature,
  );
  if (leafError !== undefined) return leafError;
  return validateLeafNodeCredentialAndKeyUniqueness(treeAfterProposals, leaf, leafIndex);
}

/**
 * Merges an UpdatePath into the tree (RFC 9420 §7.5, §7.9.2) and checks the
 * parent hash it commits to. Throws ts-mls's ValidationError when it does not fit.
 */
export function mergeUpdatePath(
  tree: RatchetTree,
  committerLeaf: number,
  path: UpdatePath,
  cipherSuite: CiphersuiteImpl,
  committerIsNew: boolean,
): Promise<RatchetTree> {
  return applyUpdatePath(tree, toLeafIndex(committerLeaf), path, cipherSuite.hash, committerIsNew);
}

/**
 * For each node an UpdatePath replaces, the nodes it must encrypt the path
 * secret to: the copath resolution minus leaves added by this commit
 * (RFC 9420 §7.6). Only holders of these nodes' private keys learn the new
 * epoch's secrets; a path with other counts leaves some member unable to
 * process the commit.
 */
export function pathRecipientNodes(
  treeBeforePath: RatchetTree,
  committerLeaf: number,
  addedLeaves: readonly number[],
): number[][] {
  const excluded = new Set(addedLeaves.map((leaf) => Number(leafToNodeIndex(toLeafIndex(leaf)))));
  return filteredDirectPathAndCopathResolution(toLeafIndex(committerLeaf), treeBeforePath).map(
    ({ resolution }) => resolution.map(Number).filter((nodeIndex) => !excluded.has(nodeIndex)),
  );
}

export function treeHash(tree: RatchetTree, cipherSuite: CiphersuiteImpl): Promise<Uint8Array> {
  return treeHashRoot(tree, cipherSuite.hash);
}

/**
 * RFC 9420 §8.2: the next epoch's group context (transcript hash, tree hash,
 * epoch + 1). Parley commits never change group context extensions.
 */
export function nextEpochContext(
  context: GroupContext,
  content: FramedContentCommit,
  signature: Uint8Array,
  newTreeHash: Uint8Array,
  previousConfirmationTag: Uint8Array,
  cipherSuite: CiphersuiteImpl,
): Promise<GroupContext> {
  return nextEpochContextInternal(
    context,
    "mls_public_message",
    content,
    signature,
    newTreeHash,
    previousConfirmationTag,
    cipherSuite.hash,
  );
}
