import { ParleyError, type RoomId } from "@parley/protocol";
import {
  type ClientState,
  createGroupInfoWithExternalPub,
  createProposal,
  joinGroupExternal,
} from "ts-mls";
import type { DeviceCredential, DeviceIdentity } from "../credential/identity.ts";
import { type MlsCrypto, parleyCipherSuiteName } from "../crypto/mls-crypto.ts";
import { type MlsFailure, mlsFailure } from "../errors.ts";
import { describeChange, type GroupChange } from "../group/change.ts";
import { groupIdParts } from "../group/group-id.ts";
import { leafOfDevice } from "../group/roster.ts";
import { checkCommitRules } from "../group/rules.ts";
import {
  decodeTree,
  decodeWire,
  encodeGroupInfo,
  encodePublicMessage,
  encodeTree,
} from "../group/wire.ts";
import { credentialOfBundle, generateKeyPackage } from "../key-package/generate.ts";
import { failureFromLibrary } from "./failure.ts";
import { isActive, type MlsMember, memberFromState, ownLeafIndex } from "./member.ts";

/**
 * An external commit (RFC 9420 §12.4.3.2) waiting to be ordered, like a
 * PendingCommit. If it is ordered first, `externalJoinAccepted` gives the new
 * member. If another commit wins, nothing is lost: fetch the sponsors' new
 * GroupInfo and tree and prepare again.
 */
export interface PendingExternalJoin {
  readonly kind: "pending-external-join";
  readonly roomId: RoomId;
  readonly baseEpoch: bigint;
  readonly commit: Uint8Array;
  readonly groupInfo: Uint8Array;
  readonly ratchetTree: Uint8Array;
  readonly change: GroupChange;
  readonly self: DeviceCredential;
  readonly newState: ClientState;
}

export type ExternalJoinOutcome =
  | { readonly kind: "prepared"; readonly pending: PendingExternalJoin }
  | MlsFailure;

/**
 * Joins a room's group without a Welcome, from the GroupInfo and ratchet
 * tree the sponsors hold: for a device whose room policy lets it join by
 * itself, and for recovery. If the device already has a leaf (it lost its
 * state, or could not process an ordered commit), the external commit
 * removes that old leaf in the same step (a "resync"); Parley allows an
 * external commit to remove nothing else.
 */
export async function prepareExternalJoin(
  crypto: MlsCrypto,
  identity: DeviceIdentity,
  options: {
    readonly roomId: RoomId;
    readonly groupInfo: Uint8Array;
    readonly ratchetTree: Uint8Array;
    readonly nowMs: number;
  },
): Promise<ExternalJoinOutcome> {
  const groupInfo = decodeWire(options.groupInfo, "mls_group_info");
  if (groupInfo.kind === "failed") return groupInfo;
  const context = groupInfo.value.groupContext;
  if (context.cipherSuite !== parleyCipherSuiteName) {
    return mlsFailure("mls_rule_violation", "the GroupInfo is not for Parley's cipher suite");
  }
  if (groupIdParts(context.groupId)?.roomId !== options.roomId) {
    return mlsFailure("mls_wrong_group", "the GroupInfo is for another room's group");
  }
  const tree = decodeTree(options.ratchetTree);
  if (tree.kind === "failed") return tree;
  const bundle = await generateKeyPackage(crypto, identity, { nowMs: options.nowMs });
  const self = credentialOfBundle(bundle);
  const resync = leafOfDevice(tree.value, self.device) !== undefined;
  let joined: Awaited<ReturnType<typeof joinGroupExternal>>;
  try {
    joined = await joinGroupExternal(
      groupInfo.value,
      bundle.publicPackage,
      bundle.privatePackage,
      resync,
      crypto.cipherSuite,
      tree.value,
      crypto.clientConfig,
    );
  } catch (thrown) {
    return failureFromLibrary(thrown, "joining by external commit");
  }
  const { content } = joined.publicMessage;
  if (content.contentType !== "commit") {
    throw new ParleyError("internal", "an external commit that is not one");
  }
  const proposals = content.commit.proposals.flatMap((item) =>
    item.proposalOrRefType === "proposal"
      ? [{ proposal: item.proposal, senderLeafIndex: undefined }]
      : [],
  );
  const broken = checkCommitRules(tree.value, content.sender, content.commit, proposals);
  if (broken !== undefined) return broken;
  const newTree = joined.newState.ratchetTree;
  const newGroupInfo = await createGroupInfoWithExternalPub(
    joined.newState,
    [],
    crypto.cipherSuite,
  );
  return {
    kind: "prepared",
    pending: {
      kind: "pending-external-join",
      roomId: options.roomId,
      baseEpoch: context.epoch,
      commit: encodePublicMessage(joined.publicMessage),
      groupInfo: encodeGroupInfo(newGroupInfo),
      ratchetTree: encodeTree(newTree),
      change: describeChange(
        tree.value,
        newTree,
        content.sender,
        content.commit,
        proposals,
        context.epoch + 1n,
      ),
      self,
      newState: joined.newState,
    },
  };
}

/** The sponsors ordered the external commit: the device is a member from its epoch on. */
export function externalJoinAccepted(crypto: MlsCrypto, pending: PendingExternalJoin): MlsMember {
  return memberFromState(crypto, pending.self, pending.newState, 0);
}

/**
 * Recovery for a member that cannot process an ordered commit (or lost its
 * state): rejoin by external commit from the sponsors' current GroupInfo and
 * tree, replacing this device's old leaf. Messages of the epochs it missed
 * stay unreadable to it; everything from the rejoin on is readable.
 * The old member value's sequence carries on, so sealed state never goes back.
 */
export async function prepareRejoin(
  member: MlsMember,
  identity: DeviceIdentity,
  options: {
    readonly groupInfo: Uint8Array;
    readonly ratchetTree: Uint8Array;
    readonly nowMs: number;
  },
): Promise<ExternalJoinOutcome> {
  return prepareExternalJoin(member.crypto, identity, { roomId: member.roomId, ...options });
}

/** The member after its rejoin was ordered, with a sequence above the old value's. */
export function rejoinAccepted(member: MlsMember, pending: PendingExternalJoin): MlsMember {
  return memberFromState(member.crypto, pending.self, pending.newState, member.sequence + 1);
}

/**
 * A proposal to remove this device (RFC 9420 §12.1.3), for leaving: a member
 * cannot commit its own removal. Send it to the control lane; it is recorded
 * by every member (this one included) when it comes back ordered, and the
 * next commit of the epoch applies it. The member value is unchanged: a
 * proposal that is never ordered must not linger in its state.
 */
export async function proposeLeave(member: MlsMember): Promise<Uint8Array> {
  if (!isActive(member)) {
    throw new ParleyError("invalid_argument", "a removed member cannot leave again");
  }
  const result = await createProposal(
    member.state,
    true,
    { proposalType: "remove", remove: { removed: ownLeafIndex(member) } },
    member.crypto.cipherSuite,
  );
  if (result.message.wireformat !== "mls_public_message") {
    throw new ParleyError("internal", "a Parley proposal must be a PublicMessage");
  }
  return encodePublicMessage(result.message.publicMessage);
}
