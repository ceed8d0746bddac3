import { type DeviceId, ParleyError, type RoomId } from "@parley/protocol";
import {
  type ClientState,
  createCommit,
  createGroupInfoWithExternalPub,
  type Proposal,
  type PublicMessage,
} from "ts-mls";
import { type MlsFailure, mlsFailure } from "../errors.ts";
import { describeChange, type GroupChange } from "../group/change.ts";
import { leafOfDevice } from "../group/roster.ts";
import { checkCommitRules, resolveProposals } from "../group/rules.ts";
import { encodeGroupInfo, encodePublicMessage, encodeTree, encodeWelcome } from "../group/wire.ts";
import { verifyKeyPackageBytes } from "../key-package/verify.ts";
import { failureFromLibrary } from "./failure.ts";
import { epochOf, isActive, type MlsMember, ownLeafIndex } from "./member.ts";

/**
 * What a member wants a commit to do. An empty intent is an update: the
 * member refreshes its own leaf and direct path (post-compromise security,
 * and it fills the tree so later commits encrypt to fewer nodes). Proposals
 * already ordered in this epoch (a device's request to leave) are always
 * committed too.
 */
export interface CommitIntent {
  /** Encoded KeyPackages (MLSMessage) of the devices to add. */
  readonly add?: readonly Uint8Array[];
  /** Devices to remove. A device cannot remove itself: it proposes to leave (`proposeLeave`). */
  readonly remove?: readonly DeviceId[];
}

/**
 * A commit waiting for the sponsors to order it. Send `commit` (with
 * `groupInfo` and `ratchetTree`, which sponsors check and keep) to the
 * control lane; then settle it with `commitAccepted` if it was ordered first
 * or `commitLost` with the commit that was. Deliver `welcome` to the joiners
 * (with `ratchetTree`) only after it is accepted: a lost commit's Welcome
 * leads into an epoch that never happened.
 */
export interface PendingCommit {
  readonly kind: "pending-commit";
  readonly roomId: RoomId;
  /** The epoch the commit was made in; it starts epoch `baseEpoch + 1`. */
  readonly baseEpoch: bigint;
  readonly commit: Uint8Array;
  readonly welcome: Uint8Array | undefined;
  /** GroupInfo of the new epoch, with `external_pub`, for the sponsors. */
  readonly groupInfo: Uint8Array;
  /** Ratchet tree of the new epoch, for joiners and sponsors. */
  readonly ratchetTree: Uint8Array;
  readonly change: GroupChange;
  /** The intent, kept to rebuild the commit if another one wins. */
  readonly intent: { readonly add: readonly Uint8Array[]; readonly remove: readonly DeviceId[] };
  /** ts-mls's state after the commit; adopted by `commitAccepted`. */
  readonly newState: ClientState;
}

export type PrepareOutcome =
  | { readonly kind: "prepared"; readonly pending: PendingCommit }
  | MlsFailure;

/**
 * Builds a commit (PublicMessage, so sponsors can check it) from the current
 * epoch without applying it. `nowMs` is the caller's clock, for KeyPackage
 * lifetimes.
 */
export async function prepareCommit(
  member: MlsMember,
  intent: CommitIntent,
  options: { readonly nowMs: number },
): Promise<PrepareOutcome> {
  if (!isActive(member)) {
    return mlsFailure("mls_not_member", "this device was removed from the group");
  }
  const add = intent.add ?? [];
  const remove = intent.remove ?? [];
  const proposals: Proposal[] = [];
  for (const [index, bytes] of add.entries()) {
    const verified = await verifyKeyPackageBytes(member.crypto, bytes, options.nowMs);
    if (verified.kind === "failed") {
      return mlsFailure(verified.code, `KeyPackage ${index}: ${verified.detail}`, verified.cause);
    }
    proposals.push({ proposalType: "add", add: { keyPackage: verified.keyPackage.keyPackage } });
  }
  // Removes already proposed in this epoch are committed by reference anyway;
  // proposing them again would remove one leaf twice, which RFC 9420 forbids.
  const alreadyProposed = new Set(
    Object.values(member.state.unappliedProposals).flatMap(({ proposal }) =>
      proposal.proposalType === "remove" ? [proposal.remove.removed] : [],
    ),
  );
  for (const device of remove) {
    const leaf = leafOfDevice(member.state.ratchetTree, device);
    if (leaf === undefined) return mlsFailure("mls_rule_violation", `${device} is not a member`);
    if (leaf === ownLeafIndex(member)) {
      return mlsFailure("mls_rule_violation", "a device leaves by proposal, not by its own commit");
    }
    if (!alreadyProposed.has(leaf))
      proposals.push({ proposalType: "remove", remove: { removed: leaf } });
  }
  let result: Awaited<ReturnType<typeof createCommit>>;
  try {
    result = await createCommit(
      { state: member.state, cipherSuite: member.crypto.cipherSuite },
      { extraProposals: proposals, wireAsPublicMessage: true, ratchetTreeExtension: false },
    );
  } catch (thrown) {
    return failureFromLibrary(thrown, "creating a commit");
  }
  if (result.commit.wireformat !== "mls_public_message") {
    throw new ParleyError("internal", "a Parley commit must be a PublicMessage");
  }
  const described = describeOwnCommit(member, result.commit.publicMessage, result.newState);
  if (described.kind === "failed") return described;
  const { cipherSuite } = member.crypto;
  const groupInfo = await createGroupInfoWithExternalPub(result.newState, [], cipherSuite);
  return {
    kind: "prepared",
    pending: {
      kind: "pending-commit",
      roomId: member.roomId,
      baseEpoch: epochOf(member),
      commit: encodePublicMessage(result.commit.publicMessage),
      welcome: result.welcome === undefined ? undefined : encodeWelcome(result.welcome),
      groupInfo: encodeGroupInfo(groupInfo),
      ratchetTree: encodeTree(result.newState.ratchetTree),
      change: described.change,
      intent: { add: [...add], remove: [...remove] },
      newState: result.newState,
    },
  };
}

/**
 * Checks our own commit with the rules sponsors and members apply, before it
 * leaves the device. A remove without an update path is refused here as well
 * as by every receiver: it is the one defect that would leak the next epoch
 * to the removed member, so it is asserted in both places.
 */
function describeOwnCommit(
  member: MlsMember,
  message: PublicMessage,
  newState: ClientState,
): { readonly kind: "described"; readonly change: GroupChange } | MlsFailure {
  const { content } = message;
  if (content.contentType !== "commit") {
    throw new ParleyError("internal", "a commit that is not one");
  }
  const treeBefore = member.state.ratchetTree;
  const resolved = resolveProposals(
    content.commit.proposals,
    member.state.unappliedProposals,
    ownLeafIndex(member),
  );
  if (resolved.kind === "failed") return resolved;
  const removes = resolved.proposals.some(({ proposal }) => proposal.proposalType === "remove");
  if (removes && content.commit.path === undefined) {
    throw new ParleyError("internal", "ts-mls made a remove commit without an update path");
  }
  const broken = checkCommitRules(treeBefore, content.sender, content.commit, resolved.proposals);
  if (broken !== undefined) return broken;
  const change = describeChange(
    treeBefore,
    newState.ratchetTree,
    content.sender,
    content.commit,
    resolved.proposals,
    content.epoch + 1n,
  );
  return { kind: "described", change };
}
